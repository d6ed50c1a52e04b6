/**
 * What every end-to-end suite needs to drive local mode over HTTP, as a CI pipeline would:
 * one local server per suite (with its output shown when a test fails), the API (every answer checked
 * against the OpenAPI document: test/support/openapi-validator.ts), the
 * environment pages (host-routed), and polling until something holds.
 */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type ApiAnswer, readAnswer } from '../../cli/answer.ts';
import { startLocalServer, type LocalServer, type LocalServerOptions } from './local-server.ts';
import { assertDescribed } from '../support/openapi-validator.ts';

export type Answer = ApiAnswer;

export interface RequestOptions {
  body?: unknown;
  /** a body sent as is (bad JSON, another media type) */
  raw?: string;
  headers?: Record<string, string>;
}

export interface LocalApi {
  server(): LocalServer;
  api(method: string, path: string, options?: RequestOptions): Promise<Answer>;
  /** the environment's page, routed by its Host header like the ALB rule */
  page(name: string, path?: string): Promise<{ status: number; text: string; headers: Record<string, unknown> }>;
  /** GET the environment until `done(env)` holds; fails with the last state seen */
  waitFor(name: string, done: (env: any) => boolean, timeoutMs?: number): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** reads until `ok(value)` holds or time runs out; returns the last value read */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    value = await read();
  }
  return value;
}

/** like `eventually`, but fails (naming `what` and the last value) when `ok` never holds */
export async function reached<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000, everyMs = 100, what = 'the expected state'): Promise<T> {
  const value = await eventually(read, ok, timeoutMs, everyMs);
  if (!ok(value)) throw new Error(`${what}: not reached in ${timeoutMs} ms; last: ${JSON.stringify(value).slice(0, 2000)}`);
  return value;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH']);

export const isStatus = (...statuses: string[]) => (env: { status: string }) => statuses.includes(env.status);

/**
 * `POST /_local/aws` as an operator's script would use the AWS CLI against a busy account: the
 * route already retries what the CLI retries; a throttle the CLI does not retry (ECS's
 * ClientException shapes) is retried here a few times, as a person would.
 */
export async function awsCallRetried(api: (method: string, path: string, options?: RequestOptions) => Promise<Answer>, service: string, action: string, params: unknown): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await api('POST', '/_local/aws', { body: { service, action, params } });
    const throttled = answer.status === 400 && /throttl|too many concurrent|rate exceeded/i.test(String(answer.body?.detail ?? ''));
    if (!throttled || attempt >= 5) return answer;
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
}

/** Starts local mode (with `env`) before the suite's tests and stops it after them. */
export function useLocalServer(env: Record<string, string> = {}, options: LocalServerOptions = {}): LocalApi {
  let started: LocalServer | undefined;
  const server = () => {
    if (!started) throw new Error('local mode has not started');
    return started;
  };

  beforeAll(async () => {
    started = await startLocalServer(env, undefined, options);
  }, 120_000);
  afterAll(async () => {
    await started?.stop();
  });
  afterEach((context) => {
    if (context.task.result?.state === 'fail') {
      process.stderr.write(`\n--- local mode output (last 20 kB) ---\n${started?.output()}\n--- end ---\n`);
    }
  });

  const api = async (method: string, path: string, options: RequestOptions = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...options.headers };
    let body = options.raw;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    // POST, PUT and PATCH need a JSON content type even with no body (415 otherwise), as any JSON body does
    if (options.body !== undefined || STATE_CHANGING.has(method.toUpperCase())) headers['content-type'] ??= 'application/json';
    const answer = await readAnswer(await fetch(`${server().url}${path}`, { method, headers, body }));
    // every answer of the API must be one the OpenAPI document describes (status, content type, body, headers)
    assertDescribed({ method, path, status: answer.status, contentType: answer.headers.get('content-type') ?? '', text: answer.text, headers: answer.headers });
    return answer;
  };

  // fetch() forbids setting Host, so pages go through node:http
  const page = (name: string, path = '/') =>
    new Promise<{ status: number; text: string; headers: Record<string, unknown> }>((resolve, reject) => {
      const { port } = server();
      const req = request({ host: '127.0.0.1', port, path, headers: { host: `${name}.localhost:${port}` } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });

  const waitFor = async (name: string, done: (env: any) => boolean, timeoutMs = 60_000) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const answer = await reached(() => api('GET', `/v1/environments/${name}`), (a) => a.status === 200 && done(a.body), timeoutMs, 100, `environment ${name}`);
    return answer.body;
  };

  return { server, api, page, waitFor };
}
