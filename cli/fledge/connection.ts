/**
 * How the `fledge` CLI reaches the API: the endpoint (`--endpoint` or FLEDGE_ENDPOINT), the
 * credentials (a bearer token from FLEDGE_TOKEN, else SigV4 from the standard AWS credential
 * chain; nothing for local mode on a loopback address, which is open unless started with
 * `--auth oidc`, and then takes FLEDGE_TOKEN), and what an answer that is not a success
 * becomes: a `CliError`, one line and exit code 2.
 */
import { bearerAuth, FledgeApi, regionOfEndpoint, sigV4Signer, type ApiAnswer, type RequestSigner } from '../api-client.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** A failure the CLI reports as one line on stderr, then exits with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
  }
}

export interface ConnectionOptions {
  endpoint?: string;
  region?: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export type AuthKind = 'bearer' | 'sigv4' | 'none';

/** Which credentials a request to `endpoint` carries, and the region SigV4 signs for. */
export function authFor(endpoint: URL, env: Record<string, string | undefined>, region?: string): { kind: AuthKind; region?: string } {
  if (env.FLEDGE_TOKEN) return { kind: 'bearer' };
  if (LOOPBACK.has(endpoint.hostname)) return { kind: 'none' };
  const signingRegion = region ?? regionOfEndpoint(endpoint.href) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!signingRegion) {
    throw new CliError(`cannot tell the AWS region of ${endpoint.host} to sign requests for: pass --region (or set AWS_REGION), or set FLEDGE_TOKEN`);
  }
  return { kind: 'sigv4', region: signingRegion };
}

export function connect(options: ConnectionOptions, env: Record<string, string | undefined>, version: string): Api {
  const raw = options.endpoint ?? env.FLEDGE_ENDPOINT;
  if (!raw) throw new CliError('no endpoint: pass --endpoint <url> or set FLEDGE_ENDPOINT (the stack output ApiUrl or CiApiUrl; http://127.0.0.1:4000 for local mode)');
  let endpoint: URL;
  try {
    endpoint = new URL(raw);
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new CliError(`the endpoint ${raw} is not an http(s) URL`);
  }
  const auth = authFor(endpoint, env, options.region);
  const signer: RequestSigner | undefined =
    auth.kind === 'bearer' ? bearerAuth(env.FLEDGE_TOKEN!) : auth.kind === 'sigv4' ? sigV4Signer(auth.region!) : undefined;
  return new Api(new FledgeApi(endpoint.href, signer, 30_000, `fledge-cli/${version}`), endpoint);
}

/** `409 Conflict: detail`, with a 400's field paths; API Gateway's own `{message}` answers too. */
export function describeProblem(answer: ApiAnswer): string {
  const body = (answer.body ?? {}) as { title?: string; detail?: string; message?: string; errors?: { path?: string; message?: string }[] };
  const words = [body.title, body.detail].filter(Boolean).join(': ') || body.message || answer.text.slice(0, 200).trim() || 'no details';
  const fields = Array.isArray(body.errors) && body.errors.length > 0 ? ` (${body.errors.map((e) => `${e.path}: ${e.message}`).join('; ')})` : '';
  const hint =
    answer.status === 401 ? ' (the API refused the credentials: check FLEDGE_TOKEN or the AWS credentials)' :
    answer.status === 403 && !body.detail ? ' (the caller may not use this API or this environment)' : '';
  return `${answer.status} ${words}${fields}${hint}`;
}

/** Why fetch failed, in plain words: refused, unknown host, timeout... (never a stack trace). */
export function describeNetworkError(error: unknown, endpoint: URL): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const code = cause?.code ?? (error as { code?: string } | undefined)?.code;
  const name = (error as { name?: string } | undefined)?.name;
  const where = endpoint.host;
  if (name === 'TimeoutError') return `cannot reach ${where}: no answer in time`;
  if (code === 'ECONNREFUSED') return `cannot reach ${where}: connection refused (is the endpoint right, and is the API running?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot reach ${where}: the host name does not resolve (DNS)`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `cannot reach ${where}: the connection was reset`;
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return `cannot reach ${where}: the connection timed out`;
  if (name === 'CredentialsProviderError' || /credential/i.test(String((error as Error)?.message))) {
    return `no AWS credentials to sign the request with (${(error as Error).message}); configure the AWS credential chain or set FLEDGE_TOKEN`;
  }
  const detail = cause?.message ?? (error as Error)?.message ?? String(error);
  return `cannot reach ${where}: ${code ? `${code} ` : ''}${detail}`;
}

/** Statuses worth asking again after a pause (the API said so, or a gateway hiccup). */
const RETRYABLE = new Set([429, 502, 503, 504]);

export class Api {
  constructor(readonly client: FledgeApi, readonly endpoint: URL, private readonly pause = (ms: number) => new Promise((r) => setTimeout(r, ms))) {}

  /** One request; a network failure becomes a CliError (exit 2). Answers are returned whatever their status. */
  async send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer> {
    let answer: ApiAnswer;
    try {
      answer = await this.client.call(method, path, body, headers);
    } catch (error) {
      throw new CliError(describeNetworkError(error, this.endpoint));
    }
    // every success of the API has a JSON object body: anything else (a login page, a proxy's
    // text) is not the Fledge API, said in words rather than as a TypeError on the missing fields
    if (answer.status >= 200 && answer.status < 300 && answer.status !== 204 && (typeof answer.body !== 'object' || answer.body === null)) {
      const type = answer.headers.get('content-type') ?? 'no content type';
      throw new CliError(`${method} ${path}: ${answer.status} with ${answer.text ? type : 'an empty body'}, not the Fledge API's JSON (is the endpoint the stack's ApiUrl or CiApiUrl?)`);
    }
    return answer;
  }

  /**
   * A request that must succeed: 429 and gateway errors are retried (honouring Retry-After,
   * a few times; mutations carry an Idempotency-Key so a retry cannot run twice), `accept`
   * statuses are returned, anything else is a CliError naming the problem.
   */
  async expect(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; accept?: number[] } = {}): Promise<ApiAnswer> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.send(method, path, options.body, options.headers);
      if ((answer.status >= 200 && answer.status < 300) || options.accept?.includes(answer.status)) return answer;
      if (RETRYABLE.has(answer.status) && attempt < 4) {
        await this.pause(retryAfterMs(answer) ?? 1000 * 2 ** (attempt - 1));
        continue;
      }
      throw new CliError(`${method} ${path}: ${describeProblem(answer)}`);
    }
  }
}

/** `Retry-After` in ms (seconds or an HTTP date), capped at a minute. */
export function retryAfterMs(answer: Pick<ApiAnswer, 'headers'>, now = Date.now()): number | undefined {
  const value = answer.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 60_000) : undefined;
}
