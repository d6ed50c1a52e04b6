/** An HTTP answer of the Fledge API as the smoke test and the e2e tests read it. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** the parsed JSON body, or undefined (no body, or not JSON) */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

/** Reads the whole body: JSON where it parses, the text either way. */
export async function readAnswer(response: Response): Promise<ApiAnswer> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}
