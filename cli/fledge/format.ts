/**
 * What the `fledge` CLI prints for people: environments, lists, events, log lines, the live
 * progress line of `--wait` and the account of a failure. Pure (colours are passed in), so
 * the unit tests pin the wording. `--json` bypasses all of this.
 */
import type pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/** The fields of the API's environment view the CLI reads (the API is the contract: README "Using the API"). */
export interface EnvironmentView {
  name: string;
  image: string;
  status: string;
  url: string | null;
  runningCount: number;
  desiredCount?: number;
  expiresAt?: string;
  labels?: Record<string, string>;
  version?: number;
  operation: {
    id: string;
    type: string;
    status: string;
    startedAt: string;
    finishedAt: string | null;
    error: { code: string; message: string; logs?: string } | null;
  } | null;
  cost?: { perHour: number; toDate: number; currency: string };
}

export interface LogLine {
  at: string;
  message: string;
  task?: string;
  container?: string;
}

export interface EventItem {
  at: string;
  type: string;
  message: string;
  actor: string;
  operationId?: string;
}

/** What the live line of `--wait` shows. */
export interface Progress {
  name: string;
  status: string;
  /** `create RUNNING`: the operation's type and status */
  operation?: string;
  /** the newest event of the running operation (the workflow's last step), if any */
  step?: string;
  runningCount?: number;
  desiredCount?: number;
  elapsedMs: number;
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function formatMoney(amount: number, currency: string): string {
  return currency === 'USD' ? `$${amount.toFixed(4)}` : `${amount.toFixed(4)} ${currency}`;
}

/** `[12s] pr-42 CREATING · create: service-created · tasks 0/1` */
export function progressLine(p: Progress, c: Colors): string {
  const parts = [`${c.dim(`[${formatElapsed(p.elapsedMs)}]`)} ${c.bold(p.name)} ${statusColor(p.status, c)}`];
  if (p.operation) parts.push(p.step ? `${p.operation}: ${p.step}` : p.operation);
  if (p.desiredCount !== undefined && p.runningCount !== undefined) parts.push(`tasks ${p.runningCount}/${p.desiredCount}`);
  return parts.join(' · ');
}

export function statusColor(status: string, c: Colors): string {
  if (status === 'RUNNING' || status === 'SLEEPING' || status === 'DELETED') return c.green(status);
  if (status === 'FAILED' || status === 'DEGRADED') return c.red(status);
  return c.yellow(status);
}

/** The lines of `fledge status`: what it runs, where, its last operation and cost. */
export function formatEnvironment(env: EnvironmentView, c: Colors): string[] {
  const lines = [`${c.bold(env.name)}  ${statusColor(env.status, c)}`, `  image      ${env.image}`];
  if (env.desiredCount !== undefined) lines.push(`  tasks      ${env.runningCount} running of ${env.desiredCount}`);
  const op = env.operation;
  if (op) {
    const finished = op.finishedAt ? `, finished ${op.finishedAt}` : '';
    lines.push(`  operation  ${op.type} ${op.status} (started ${op.startedAt}${finished})`);
    if (op.error) lines.push(`  error      ${c.red(op.error.code)}: ${op.error.message}`);
  }
  if (env.cost) lines.push(`  cost       ${formatMoney(env.cost.perHour, env.cost.currency)}/h, ${formatMoney(env.cost.toDate, env.cost.currency)} so far`);
  if (env.expiresAt) lines.push(`  expires    ${env.expiresAt}`);
  const labels = Object.entries(env.labels ?? {});
  if (labels.length > 0) lines.push(`  labels     ${labels.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  lines.push(`  url        ${env.url ?? c.dim('(none yet)')}`);
  return lines;
}

/** Columns padded to their widest cell (no colour inside cells: padding counts characters). */
export function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function formatList(items: EnvironmentView[], total?: { perHour: number; toDate: number; currency: string }): string[] {
  if (items.length === 0) return ['no environments'];
  const rows = [['NAME', 'STATUS', 'TASKS', 'IMAGE', 'URL']];
  for (const env of items) rows.push([env.name, env.status, `${env.runningCount}/${env.desiredCount ?? '?'}`, env.image, env.url ?? '-']);
  const lines = table(rows);
  if (total) lines.push(`total cost: ${formatMoney(total.perHour, total.currency)}/h, ${formatMoney(total.toDate, total.currency)} so far`);
  return lines;
}

export function formatEvents(items: EventItem[]): string[] {
  if (items.length === 0) return ['no events'];
  return table([['AT', 'TYPE', 'ACTOR', 'MESSAGE'], ...items.map((e) => [e.at, e.type, e.actor, e.message])]);
}

/** `2026-01-31T12:00:01.000Z [a1b2c3d4/app] listening on 8080` (the task id shortened) */
export function formatLogLine(line: LogLine): string {
  const source = [line.task ? line.task.split('/').pop()!.slice(0, 8) : undefined, line.container].filter(Boolean).join('/');
  return `${line.at} ${source ? `[${source}] ` : ''}${line.message}`;
}

/** The account of a FAILED or DEGRADED end: typed code, reason, the last log lines. */
export function formatFailure(env: EnvironmentView, logs: { lines: LogLine[]; unavailable?: string }, c: Colors): string[] {
  const error = env.operation?.error;
  const lines = [`${c.red('✗')} ${c.bold(env.name)} ${statusColor(env.status, c)}: ${error ? `${c.red(error.code)}: ${error.message}` : 'no error was recorded'}`];
  if (logs.unavailable) lines.push(c.dim(`  logs unavailable: ${logs.unavailable}`));
  else if (logs.lines.length === 0) lines.push(c.dim('  no log lines'));
  else {
    lines.push(`  last log lines:`);
    for (const line of logs.lines) lines.push(`    ${formatLogLine(line)}`);
  }
  if (env.operation) lines.push(c.dim(`  more: fledge logs ${env.name} --since ${env.operation.startedAt}`));
  return lines;
}
