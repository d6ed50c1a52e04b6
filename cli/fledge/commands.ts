/**
 * What each `fledge` command does: the requests it makes and what it prints. Human output goes
 * to stdout (the URL last), progress and diagnostics to stderr; with `--json` stdout holds one
 * JSON value. Each returns the exit code (cli/fledge/connection.ts: 0, 1, 2, 130).
 */
import { randomUUID } from 'node:crypto';
import { openInBrowser } from './browser.ts';
import { CliError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, type Api } from './connection.ts';
import {
  formatElapsed, formatEnvironment, formatEvents, formatFailure, formatList, formatLogLine, statusColor,
  type Colors, type EnvironmentView, type EventItem, type LogLine,
} from './format.ts';
import { follow, lastLines, readLines } from './logs.ts';
import { liveOutput, liveReporter, plainReporter, type ProgressReporter } from './progress.ts';
import { planPrune } from './prune.ts';
import { isFailedStatus, waitFor, type WaitGoal } from './wait.ts';

export interface FledgeIo {
  out(line: string): void;
  err(line: string): void;
  /** stderr, when it is a real stream (the live progress line draws on it) */
  stderr?: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  /** runs `handler` on Ctrl-C until the returned function is called */
  onInterrupt(handler: () => void): () => void;
  /** ends the process at once (Ctrl-C during a wait) */
  exit(code: number): never;
}

export interface Context {
  api: Api;
  io: FledgeIo;
  json: boolean;
  c: Colors;
}

export interface WaitFlags {
  wait?: boolean;
  timeout: number;
}

const envPath = (name: string, rest = '') => `/v1/environments/${encodeURIComponent(name)}${rest}`;
const mutation = () => ({ 'idempotency-key': `fledge-cli-${randomUUID()}` });

function printJson(ctx: Context, value: unknown): void {
  ctx.io.out(JSON.stringify(value, null, 2));
}

/** The failure part of `--json` output and the lines people read, for a FAILED or DEGRADED view. */
async function failureOf(ctx: Context, env: EnvironmentView) {
  const since = env.operation?.startedAt ?? new Date(0).toISOString();
  const logs = await lastLines(ctx.api, env.name, since);
  if (logs.unavailable && ctx.json) ctx.io.err(`logs unavailable: ${logs.unavailable}`);
  return {
    failure: { code: env.operation?.error?.code ?? null, reason: env.operation?.error?.message ?? null, logs: logs.lines.map(formatLogLine) },
    lines: formatFailure(env, logs, ctx.c),
  };
}

/** Waits for `goal`, with progress on stderr; Ctrl-C leaves the environment alone and exits 130. */
async function settle(ctx: Context, name: string, goal: WaitGoal, flags: WaitFlags, startedAt: number): Promise<number> {
  const { io, c } = ctx;
  const reporter: ProgressReporter = io.stderr && liveOutput(io.stderr, io.env) ? liveReporter(io.stderr, c) : plainReporter((line) => io.err(line), c);
  const release = io.onInterrupt(() => {
    reporter.done();
    io.err(`stopped waiting; ${name} keeps going: fledge status ${name}`);
    io.exit(EXIT_INTERRUPTED);
  });
  let result;
  try {
    result = await waitFor(name, goal, { api: ctx.api, report: (p) => reporter.update(p) }, { timeoutMs: flags.timeout, startedAt });
  } finally {
    reporter.done();
    release();
  }
  const env = result.env;
  const took = formatElapsed(Date.now() - startedAt);
  if (result.outcome === 'failed' && env) {
    const { failure, lines } = await failureOf(ctx, env);
    if (ctx.json) printJson(ctx, { ...env, failure });
    else for (const line of lines) io.err(line);
    return EXIT_FAILED;
  }
  if (result.outcome === 'timeout') {
    if (ctx.json) printJson(ctx, env ?? { name });
    io.err(`gave up waiting after ${took}: ${name} is still ${env?.status ?? 'unknown'} and keeps going: fledge status ${name}`);
    return EXIT_FAILED;
  }
  if (ctx.json) printJson(ctx, env ?? { name, status: 'DELETED' });
  else if (result.outcome === 'deleted') io.out(`${c.green('✓')} ${name} deleted in ${took}`);
  else {
    io.out(`${c.green('✓')} ${name} ${statusColor(env!.status, c)} in ${took} (${env!.image}, ${env!.runningCount} task${env!.runningCount === 1 ? '' : 's'})`);
    if (env!.url) io.out(env!.url);
  }
  return EXIT_OK;
}

const VERB: Record<number, string> = { 200: 'unchanged', 201: 'created', 202: 'accepted' };

/** Prints a mutation's answer (or waits for its operation to end). */
async function accepted(ctx: Context, name: string, status: number, env: EnvironmentView, flags: WaitFlags, startedAt: number, goal: WaitGoal = 'settled'): Promise<number> {
  if (flags.wait) return settle(ctx, name, goal, flags, startedAt);
  if (ctx.json) printJson(ctx, env);
  else {
    const op = env.operation?.status === 'RUNNING' ? ` (${env.operation.type} running)` : '';
    ctx.io.out(`${name}: ${VERB[status] ?? status}, ${statusColor(env.status, ctx.c)}${op}; follow it with: fledge status ${name}`);
    if (env.url && goal === 'settled') ctx.io.out(env.url);
  }
  return EXIT_OK;
}

export interface UpFlags extends WaitFlags {
  image: string;
  port?: number;
  env?: Record<string, string>;
  secret?: Record<string, string>;
  label?: Record<string, string>;
  ttl?: string;
  cpu?: number;
  memory?: number;
  count?: number;
}

/** The PUT body of `up`: only what was given (the API fills in its defaults). */
export function upBody(flags: UpFlags): Record<string, unknown> {
  return {
    image: flags.image,
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    ...(flags.cpu !== undefined ? { cpu: flags.cpu } : {}),
    ...(flags.memory !== undefined ? { memory: flags.memory } : {}),
    ...(flags.count !== undefined ? { desiredCount: flags.count } : {}),
    ...(flags.env ? { environment: flags.env } : {}),
    ...(flags.secret ? { secrets: flags.secret } : {}),
    ...(flags.label ? { labels: flags.label } : {}),
    ...(flags.ttl !== undefined ? { ttl: flags.ttl } : {}),
  };
}

export async function up(ctx: Context, name: string, flags: UpFlags): Promise<number> {
  const startedAt = Date.now();
  const answer = await ctx.api.expect('PUT', envPath(name), { body: upBody(flags), headers: mutation() });
  return accepted(ctx, name, answer.status, answer.body as EnvironmentView, flags, startedAt);
}

export async function status(ctx: Context, name: string): Promise<number> {
  const env = (await ctx.api.expect('GET', envPath(name))).body as EnvironmentView;
  const failed = isFailedStatus(env.status);
  const failure = failed ? await failureOf(ctx, env) : undefined;
  if (ctx.json) printJson(ctx, failure ? { ...env, failure: failure.failure } : env);
  else {
    const lines = formatEnvironment(env, ctx.c);
    // the URL stays last: the failure's log lines go before it
    const url = lines.pop()!;
    for (const line of lines) ctx.io.out(line);
    for (const line of failure?.lines.slice(1) ?? []) ctx.io.out(line);
    ctx.io.out(url);
  }
  return failed ? EXIT_FAILED : EXIT_OK;
}

export async function list(ctx: Context, filters: { repository?: string; branch?: string; status?: string }): Promise<number> {
  const items: EnvironmentView[] = [];
  let cost: EnvironmentView['cost'];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ limit: '100' });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    if (cursor) query.set('cursor', cursor);
    const page = (await ctx.api.expect('GET', `/v1/environments?${query}`)).body as { items: EnvironmentView[]; nextCursor?: string; cost?: EnvironmentView['cost'] };
    items.push(...page.items);
    cost = page.cost ?? cost;
    cursor = page.nextCursor;
  } while (cursor);
  if (ctx.json) printJson(ctx, { items, ...(cost ? { cost } : {}) });
  else for (const line of formatList(items, cost)) ctx.io.out(line);
  return EXIT_OK;
}

export async function events(ctx: Context, name: string, limit: number): Promise<number> {
  const page = (await ctx.api.expect('GET', envPath(name, `/events?limit=${limit}`))).body as { items: EventItem[]; nextCursor?: string };
  if (ctx.json) printJson(ctx, page);
  else for (const line of formatEvents(page.items)) ctx.io.out(line);
  return EXIT_OK;
}

export async function logs(ctx: Context, name: string, flags: { since?: string; limit: number; follow?: boolean }): Promise<number> {
  // 404 for an unknown environment comes from here, before any log read
  await ctx.api.expect('GET', envPath(name));
  const print = (line: LogLine) => ctx.io.out(ctx.json ? JSON.stringify(line) : formatLogLine(line));
  if (flags.follow) {
    // with --follow, --json prints one JSON object per line (NDJSON): the stream has no end to close a value with
    const stop = new AbortController();
    const release = ctx.io.onInterrupt(() => stop.abort());
    try {
      await follow(ctx.api, name, flags.since, print, stop.signal);
    } finally {
      release();
    }
    return EXIT_OK;
  }
  const got = await readLines(ctx.api, name, { ...(flags.since ? { since: flags.since } : {}), limit: flags.limit });
  if (ctx.json) printJson(ctx, { items: got.lines, ...(got.nextCursor ? { nextCursor: got.nextCursor } : {}) });
  else if (got.lines.length === 0) ctx.io.err('no log lines');
  else got.lines.forEach(print);
  return EXIT_OK;
}

export async function scale(ctx: Context, name: string, count: number, flags: WaitFlags): Promise<number> {
  const startedAt = Date.now();
  const answer = await ctx.api.expect('POST', envPath(name, '/scale'), { body: { desiredCount: count }, headers: mutation() });
  return accepted(ctx, name, answer.status, answer.body as EnvironmentView, flags, startedAt);
}

/**
 * The count a wake restores: `--count`, else the `from` of the newest `sleep-requested` event
 * (the count the environment slept from, as the waker restores it), else 1.
 */
export function wakeCountFrom(items: { type: string; details?: { from?: unknown } }[]): number {
  const from = items.find((e) => e.type === 'sleep-requested')?.details?.from;
  return typeof from === 'number' && from > 0 ? from : 1;
}

export async function wake(ctx: Context, name: string, flags: WaitFlags & { count?: number }): Promise<number> {
  const env = (await ctx.api.expect('GET', envPath(name))).body as EnvironmentView;
  if (env.status !== 'SLEEPING' && flags.count === undefined) {
    if (ctx.json) printJson(ctx, env);
    else ctx.io.out(`${name} is ${statusColor(env.status, ctx.c)}, not SLEEPING: nothing to wake`);
    return EXIT_OK;
  }
  let count = flags.count;
  if (count === undefined) {
    const page = (await ctx.api.expect('GET', envPath(name, '/events?limit=100'))).body as { items: { type: string; details?: { from?: unknown } }[] };
    count = wakeCountFrom(page.items);
  }
  return scale(ctx, name, count, flags);
}

export async function heal(ctx: Context, name: string, flags: WaitFlags): Promise<number> {
  const startedAt = Date.now();
  const answer = await ctx.api.expect('POST', envPath(name, '/heal'), { headers: mutation() });
  return accepted(ctx, name, answer.status, answer.body as EnvironmentView, flags, startedAt);
}

export async function down(ctx: Context, name: string, flags: WaitFlags): Promise<number> {
  const startedAt = Date.now();
  const answer = await ctx.api.expect('DELETE', envPath(name), { headers: mutation() });
  return accepted(ctx, name, answer.status, answer.body as EnvironmentView, flags, startedAt, 'deleted');
}

export async function open(ctx: Context, name: string): Promise<number> {
  const env = (await ctx.api.expect('GET', envPath(name))).body as EnvironmentView;
  if (ctx.json) {
    printJson(ctx, { name, status: env.status, url: env.url });
    return EXIT_OK;
  }
  if (!env.url) {
    ctx.io.err(`${name} has no URL yet (${env.status})`);
    return EXIT_OK;
  }
  if (openInBrowser(env.url, ctx.io.platform, ctx.io.env)) ctx.io.err(`opening ${env.url} in a browser`);
  ctx.io.out(env.url);
  return EXIT_OK;
}

export async function prune(ctx: Context, flags: { repository: string; keep: string[]; dryRun?: boolean }): Promise<number> {
  const items: EnvironmentView[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ repository: flags.repository, limit: '100', ...(cursor ? { cursor } : {}) });
    const page = (await ctx.api.expect('GET', `/v1/environments?${query}`)).body as { items: EnvironmentView[]; nextCursor?: string };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const plan = planPrune(items, flags.keep);
  const deleted: string[] = [];
  const failed: { name: string; error: string }[] = [];
  for (const name of plan.remove) {
    if (flags.dryRun) continue;
    try {
      await ctx.api.expect('DELETE', envPath(name), { headers: mutation(), accept: [404] });
      deleted.push(name);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      failed.push({ name, error: error.message });
    }
  }
  if (ctx.json) printJson(ctx, { repository: flags.repository, dryRun: Boolean(flags.dryRun), kept: plan.keep, deleted, wouldDelete: flags.dryRun ? plan.remove : [], failed });
  else {
    for (const name of flags.dryRun ? plan.remove : deleted) ctx.io.out(`${flags.dryRun ? 'would delete' : 'deleting'} ${name}`);
    ctx.io.out(`kept ${plan.keep.length}: ${plan.keep.join(', ') || '-'}`);
  }
  for (const f of failed) ctx.io.err(`could not delete ${f.name}: ${f.error}`);
  return failed.length > 0 ? EXIT_USAGE : EXIT_OK;
}
