/**
 * Operator settings of the scheduled cleanup (statemachines/cleanup.asl.json), read from the
 * Lambda environment once. Same defaults on AWS and locally.
 *
 * | variable | default | what |
 * |---|---|---|
 * | FLEDGE_CLEANUP_MAX_PER_RUN | 100 | expired environments (and stuck ones) handled per run; the rest wait for the next run |
 * | FLEDGE_CLEANUP_STUCK_AFTER | 1h | an operation whose status has not moved for this long is checked for a lost execution |
 * | FLEDGE_CLEANUP_ORPHAN_GRACE | 5m | tagged resources younger than this are never treated as orphans |
 * | FLEDGE_CLEANUP_MAX_ORPHANS_PER_RUN | 25 | environments whose orphaned resources one run removes |
 * | FLEDGE_LOCAL_CLOCK_OFFSET | 0 | local mode only (ignored unless FLEDGE_LOCAL_MODE=true): the cleanup's clock runs this far ahead, so expiry can be shown without waiting for it |
 */

export interface CleanupConfig {
  maxPerRun: number;
  stuckAfterMs: number;
  orphanGraceMs: number;
  maxOrphanEnvironmentsPerRun: number;
  /** added to the execution's start time to get the cleanup's "now" (0 on AWS) */
  clockOffsetMs: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `0`, `500ms`, `30s`, `5m`, `1h`, `2d`. */
export function parseInterval(name: string, raw: string | undefined, fallback: string): number {
  const text = (raw ?? '').trim() || fallback;
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text);
  if (!match || (match[2] === undefined && match[1] !== '0')) {
    throw new Error(`${name} must be a duration like "30s", "5m" or "1h", got "${text}"`);
  }
  return Number(match[1]) * UNITS[match[2] ?? 'ms']!;
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

export function readCleanupConfig(env: NodeJS.ProcessEnv): CleanupConfig {
  const local = env.FLEDGE_LOCAL_MODE === 'true';
  return {
    maxPerRun: positiveInt('FLEDGE_CLEANUP_MAX_PER_RUN', env.FLEDGE_CLEANUP_MAX_PER_RUN, 100),
    stuckAfterMs: parseInterval('FLEDGE_CLEANUP_STUCK_AFTER', env.FLEDGE_CLEANUP_STUCK_AFTER, '1h'),
    orphanGraceMs: parseInterval('FLEDGE_CLEANUP_ORPHAN_GRACE', env.FLEDGE_CLEANUP_ORPHAN_GRACE, '5m'),
    maxOrphanEnvironmentsPerRun: positiveInt('FLEDGE_CLEANUP_MAX_ORPHANS_PER_RUN', env.FLEDGE_CLEANUP_MAX_ORPHANS_PER_RUN, 25),
    clockOffsetMs: local ? parseInterval('FLEDGE_LOCAL_CLOCK_OFFSET', env.FLEDGE_LOCAL_CLOCK_OFFSET, '0') : 0,
  };
}

/** Read on every call: cheap, and tests and local mode change the environment between runs. */
export function cleanupConfig(): CleanupConfig {
  return readCleanupConfig(process.env);
}
