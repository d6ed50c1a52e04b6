/**
 * The operator's bounds on self-healing (README "Self-healing"), read from the environment of the heal
 * trigger, the heal task Lambdas and the API: FLEDGE_HEAL_MAX_PER_HOUR (default 3) heals per
 * environment per hour, FLEDGE_HEAL_BACKOFF (default 30s; local mode 5s) the first wait,
 * doubled after every heal (30 s, 60 s, 120 s). Same defaults locally and on AWS, except the
 * backoff local mode sets.
 */
import type { HealPolicy } from '#domain/healing.ts';

/** `30s`, `2m`, `500ms`, or a plain number of seconds. */
export function parseSeconds(raw: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!match) throw new Error(`${name} must look like "30s", "2m" or a number of seconds, got "${raw}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const seconds = unit === 'ms' ? value / 1000 : unit === 'm' ? value * 60 : value;
  if (seconds <= 0 || seconds > 3600) throw new Error(`${name} must be between 1ms and 1h, got "${raw}"`);
  return seconds;
}

export function readHealPolicy(env: NodeJS.ProcessEnv = process.env): HealPolicy {
  const rawMax = env.FLEDGE_HEAL_MAX_PER_HOUR?.trim() || '3';
  const maxPerHour = Number(rawMax);
  if (!Number.isInteger(maxPerHour) || maxPerHour < 1 || maxPerHour > 60) {
    throw new Error(`FLEDGE_HEAL_MAX_PER_HOUR must be an integer between 1 and 60, got "${rawMax}"`);
  }
  const backoffSeconds = parseSeconds(env.FLEDGE_HEAL_BACKOFF?.trim() || '30s', 'FLEDGE_HEAL_BACKOFF');
  return { maxPerHour, backoffSeconds, windowMs: 3_600_000 };
}

let policy: HealPolicy | undefined;

export function healPolicy(): HealPolicy {
  policy ??= readHealPolicy();
  return policy;
}

/** For tests and local mode, after changing the environment. */
export function resetHealPolicy(): void {
  policy = undefined;
}
