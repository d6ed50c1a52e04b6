/**
 * The page's client of the Fledge API: openapi-fetch typed by ./api-types.ts (generated from
 * the OpenAPI document), same origin (local mode's front, or `fledge dashboard`'s proxy, which
 * signs). A bearer token pasted into the page (local mode with `--auth oidc`) is kept in
 * sessionStorage (gone with the tab) and sent as Authorization.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './api-types.ts';

export type Environment = components['schemas']['Environment'];
export type FledgeEvent = components['schemas']['Event'];
export type LogLine = components['schemas']['LogLine'];

const TOKEN_KEY = 'fledge.token';

export function readToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function saveToken(token: string): void {
  try {
    if (token.trim()) sessionStorage.setItem(TOKEN_KEY, token.trim());
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage refused (private mode): the token lasts as long as the page
  }
}

const bearer: Middleware = {
  onRequest({ request }) {
    const token = readToken().replace(/^Bearer\s+/i, '');
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
};

/**
 * POST, PUT and PATCH need a JSON content type even without a body (the API's defence against
 * cross-site forms: functions/lambda/http-handler.ts), but openapi-fetch sets one only with a
 * body: heal (no body, by the contract) would be a 415. Every such request gets
 * `application/json` unless it has a content type already (as the CLI's client does).
 */
const jsonContentType: Middleware = {
  onRequest({ request }) {
    if (['POST', 'PUT', 'PATCH'].includes(request.method.toUpperCase()) && !request.headers.has('content-type')) request.headers.set('content-type', 'application/json');
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin });
api.use(bearer, jsonContentType);

/** A request the API refused or that did not arrive: its status and the problem's title and detail. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly title: string, readonly detail: string) {
    super(detail ? `${title}: ${detail}` : title);
  }

  /** 401 (no or a refused token) or 403 (not allowed): the page asks for a token. */
  get needsAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer; an ApiError (RFC 9457 problem, or API Gateway's `{message}`) otherwise. */
export async function must<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await request;
  } catch (error) {
    throw new ApiError(0, 'Network error', error instanceof Error ? error.message : String(error));
  }
  if (answer.response.ok) return answer.data as T;
  const body = (answer.error ?? {}) as { title?: string; detail?: string; message?: string };
  const title = body.title ?? body.message ?? (answer.response.statusText || 'Request failed');
  throw new ApiError(answer.response.status, `${answer.response.status} ${title}`, body.detail ?? '');
}

export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'Error', error instanceof Error ? error.message : String(error));
}
