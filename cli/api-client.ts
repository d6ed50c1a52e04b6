/**
 * The client of the Fledge API that the `fledge` CLI and the smoke test share: JSON in, JSON
 * out, every request signed with SigV4 (service `execute-api`) on AWS, or carrying a bearer
 * token (the CI API's GitHub OIDC token), or sent as is in local mode (local mode is open).
 *
 * Signing: `@smithy/signature-v4` with `@aws-sdk/credential-provider-node` and
 * `@aws-crypto/sha256-js`. These are the signer and the credential chain the AWS SDK v3
 * itself uses, so the smoke authenticates exactly like any SDK-based CI caller (environment
 * variables, shared config and SSO profiles, web identity, ECS/EC2 instance roles, with
 * refresh), and they are maintained by AWS alongside the SDK. `aws4fetch` is smaller but only
 * signs with credentials it is handed: the credential chain would have to be added anyway.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { type ApiAnswer, readAnswer } from './answer.ts';

export type { ApiAnswer } from './answer.ts';

/** Adds SigV4 headers (authorization, x-amz-date, x-amz-security-token) to a request. */
export type RequestSigner = (request: { method: string; url: URL; headers: Record<string, string>; body?: string }) => Promise<Record<string, string>>;

export interface AwsCredentialsLike {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * A SigV4 signer for API Gateway (`execute-api`). Credentials come from the standard chain
 * unless given (the unit tests give fake static ones).
 */
export function sigV4Signer(region: string, credentials?: AwsCredentialsLike | (() => Promise<AwsCredentialsLike>)): RequestSigner {
  const signer = new SignatureV4({ service: 'execute-api', region, sha256: Sha256, credentials: credentials ?? defaultProvider() });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      query[key] = values.length === 1 ? values[0]! : values;
    }
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      // the host header is part of the signature; fetch sends the same one from the URL
      headers: { ...headers, host: url.host },
      ...(body !== undefined ? { body } : {}),
    });
    return signed.headers;
  };
}

/** `Authorization: Bearer <token>` (the CI API's JWT authorizer; local mode with `--auth oidc`). */
export function bearerAuth(token: string): RequestSigner {
  return async ({ headers }) => ({ ...headers, authorization: `Bearer ${token}` });
}

/** `https://abc123.execute-api.eu-west-1.amazonaws.com/` -> `eu-west-1` (undefined for a custom domain). */
export function regionOfEndpoint(endpoint: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/i.exec(new URL(endpoint).hostname)?.[1];
}

export class FledgeApi {
  private readonly base: string;

  constructor(
    endpoint: string,
    readonly signer?: RequestSigner,
    private readonly requestTimeoutMs = 30_000,
    private readonly userAgent = 'fledge-smoke',
  ) {
    this.base = endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
  }

  url(path: string): URL {
    return new URL(path.replace(/^\//, ''), this.base);
  }

  /** `extraHeaders`: e.g. `idempotency-key`, `if-match` (signed with the rest) */
  async call(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiAnswer> {
    const url = this.url(path);
    let headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent, ...extraHeaders };
    const text = body === undefined ? undefined : JSON.stringify(body);
    // POST, PUT and PATCH need a JSON content type even without a body (the API answers 415 otherwise)
    if (text !== undefined || ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase())) headers['content-type'] = 'application/json';
    if (this.signer) {
      const signed = await this.signer({ method, url, headers, ...(text !== undefined ? { body: text } : {}) });
      // fetch derives Host from the URL (the signed value); it may not be set by hand
      headers = Object.fromEntries(Object.entries(signed).filter(([name]) => name.toLowerCase() !== 'host'));
    }
    const response = await fetch(url, { method, headers, body: text, signal: AbortSignal.timeout(this.requestTimeoutMs) });
    return readAnswer(response);
  }
}

/** `title: detail` of an RFC 9457 problem (or the start of the body) for error messages. */
export function describeAnswer(answer: ApiAnswer): string {
  const problem = answer.body as { title?: string; detail?: string } | undefined;
  if (problem && (problem.title || problem.detail)) return `${answer.status} ${[problem.title, problem.detail].filter(Boolean).join(': ')}`;
  return `${answer.status} ${answer.text.slice(0, 300)}`;
}
