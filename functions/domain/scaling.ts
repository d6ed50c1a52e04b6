/**
 * The scaling rules (README "Sleep, wake and scaling"), pure: what `POST /scale` asks for and what it does to the
 * desired spec, the count a sleeping environment wakes to, which spec changes need the scale
 * workflow (sleep, wake, autoscaling: the update workflow knows none of them), the opt-out
 * label of idle sleep, and the operator's idle-sleep setting.
 *
 * `desiredCount` and `autoscaling` are part of the desired spec: a scale changes them like a
 * PATCH would (specVersion moves), but runs the scale workflow, and `expiresAt` does not move
 * (the ttl counts from the last create/update).
 */
import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';
import { autoscalingSettings, type EnvironmentSpec } from './environment-spec.ts';
import type { EnvironmentRecord } from './environment.ts';
import type { FieldError } from './errors.ts';
import type { Status } from './lifecycle.ts';

/** `labels: {"fledge.dev/no-sleep": "true"}` keeps an environment awake when it idles. */
export const NO_SLEEP_LABEL = 'fledge.dev/no-sleep';

export const MAX_DESIRED_COUNT = 10;

/** `POST /v1/environments/{name}/scale`: `desiredCount` and/or `autoscaling` (`null` turns it off). */
export const scaleRequestSchema = z
  .strictObject({
    desiredCount: z.int().min(0).max(MAX_DESIRED_COUNT).optional(),
    autoscaling: autoscalingSettings.nullable().optional(),
  })
  .refine((request) => request.desiredCount !== undefined || request.autoscaling !== undefined, {
    message: 'give desiredCount (0-10), autoscaling ({minCount, maxCount, targetCpuPercent} or null), or both',
  });

export type ScaleRequest = z.output<typeof scaleRequestSchema>;
export type AutoscalingSettings = NonNullable<EnvironmentSpec['autoscaling']>;

/** What a scale does, for events and metrics. */
export type ScaleIntent = 'sleep' | 'wake' | 'scale';

/** A scale starts from RUNNING or SLEEPING only (README "Using the API"); anything else is a 409. */
export function acceptsScale(status: Status): boolean {
  return status === 'RUNNING' || status === 'SLEEPING';
}

/** `count` moved into `minCount..maxCount` when autoscaling is on (0 stays 0: asleep). */
export function clampToAutoscaling(count: number, autoscaling: AutoscalingSettings | undefined): number {
  if (!autoscaling || count === 0) return count;
  return Math.min(Math.max(count, autoscaling.minCount), autoscaling.maxCount);
}

export interface ScaledSpec {
  spec: EnvironmentSpec;
  /** field errors when the request does not fit the spec (400) */
  errors: FieldError[];
}

/**
 * The desired spec after a scale request. Without `desiredCount`, a running environment keeps
 * its count (moved into the new autoscaling range), a sleeping one stays asleep. An explicit
 * count outside the autoscaling range is an error, as it is in a PUT.
 */
export function scaledSpec(current: EnvironmentSpec, request: ScaleRequest): ScaledSpec {
  const autoscaling = request.autoscaling === undefined ? current.autoscaling : (request.autoscaling ?? undefined);
  const desiredCount = request.desiredCount ?? clampToAutoscaling(current.desiredCount, autoscaling);
  const { autoscaling: _previous, ...rest } = current;
  const spec: EnvironmentSpec = { ...rest, desiredCount, ...(autoscaling ? { autoscaling } : {}) };
  const errors: FieldError[] = [];
  if (autoscaling && desiredCount > 0 && (desiredCount < autoscaling.minCount || desiredCount > autoscaling.maxCount)) {
    errors.push({
      path: request.desiredCount !== undefined ? 'desiredCount' : 'autoscaling',
      message: `desiredCount ${desiredCount} must lie within autoscaling minCount..maxCount (${autoscaling.minCount}..${autoscaling.maxCount}), or be 0 to sleep`,
    });
  }
  return { spec, errors };
}

/** The count a sleeping environment wakes to: the one it slept from (README "Using the API"), at least 1, within autoscaling. */
export function wakeCount(record: Pick<EnvironmentRecord, 'sleptFromCount' | 'spec'>): number {
  const previous = record.sleptFromCount && record.sleptFromCount > 0 ? record.sleptFromCount : 1;
  return clampToAutoscaling(Math.min(previous, MAX_DESIRED_COUNT), record.spec.autoscaling);
}

/**
 * The `sleptFromCount` to record with a new desired count: set when an environment goes to
 * sleep (the count it had), kept while it sleeps, dropped once it is awake again.
 */
export function sleptFromCountFor(current: Pick<EnvironmentRecord, 'sleptFromCount' | 'spec'>, next: EnvironmentSpec): number | undefined {
  if (next.desiredCount > 0) return undefined;
  if (current.spec.desiredCount > 0) return current.spec.desiredCount;
  return current.sleptFromCount;
}

export function scaleIntent(current: Pick<EnvironmentRecord, 'status' | 'spec'>, next: EnvironmentSpec): ScaleIntent {
  if (next.desiredCount === 0 && current.spec.desiredCount > 0) return 'sleep';
  if (next.desiredCount > 0 && (current.status === 'SLEEPING' || current.spec.desiredCount === 0)) return 'wake';
  return 'scale';
}

/**
 * A spec change of a sleeping environment wakes it (README "Using the API": "a PUT/PATCH that changes its
 * spec"): a spec that still says 0 tasks (a PATCH of the image, say) goes back to the count
 * the environment slept from.
 */
export function wokenSpec(current: EnvironmentRecord, next: EnvironmentSpec): EnvironmentSpec {
  if (current.status !== 'SLEEPING' || next.desiredCount > 0) return next;
  return { ...next, desiredCount: wakeCount({ sleptFromCount: current.sleptFromCount, spec: next }) };
}

/**
 * Whether a spec change must run the scale workflow rather than the update workflow: only
 * the scale workflow points the listener rule at the waker and back, and registers or
 * removes the autoscaling target and policy.
 */
export function needsScaleWorkflow(current: EnvironmentRecord, next: EnvironmentSpec): boolean {
  return (
    current.status === 'SLEEPING' ||
    next.desiredCount === 0 ||
    current.spec.desiredCount === 0 ||
    !isDeepStrictEqual(current.spec.autoscaling, next.autoscaling)
  );
}

/** Whether idle sleep leaves this environment alone (label `fledge.dev/no-sleep: "true"`). */
export function optsOutOfSleep(spec: Pick<EnvironmentSpec, 'labels'>): boolean {
  const value = spec.labels[NO_SLEEP_LABEL];
  return value !== undefined && ['true', 'yes', '1', 'on'].includes(value.trim().toLowerCase());
}

/**
 * FLEDGE_IDLE_SLEEP_AFTER: `<n><unit>` with `s`, `m`, `h` or `d` (`2h`, `90m`; seconds for
 * demos and tests), or `off`/`0`/empty for no idle sleep. Undefined = off.
 */
export function parseIdleSleepAfter(raw: string | undefined): number | undefined {
  const value = raw?.trim().toLowerCase() ?? '';
  if (value === '' || value === 'off' || value === 'false' || value === '0') return undefined;
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(value);
  if (!match) throw new Error(`FLEDGE_IDLE_SLEEP_AFTER must look like "2h", "90m" or "30s" (or "off"), got "${raw}"`);
  const ms = Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  if (ms <= 0) return undefined;
  return ms;
}

export interface IdleCandidate {
  name: string;
  status: Status;
  spec: Pick<EnvironmentSpec, 'labels' | 'desiredCount'>;
  /** the last write to the environment (a create, update, scale or wake ends with one) */
  updatedAt: string;
}

/**
 * Whether an environment may be put to sleep now, before its requests are counted: RUNNING,
 * not opted out, and up (unchanged) for at least the idle period — so one that was just
 * created or woken is not put back to sleep by the quiet time before it.
 */
export function mayIdleSleep(env: IdleCandidate, idleMs: number, now: number): boolean {
  if (env.status !== 'RUNNING' || env.spec.desiredCount === 0 || optsOutOfSleep(env.spec)) return false;
  const since = Date.parse(env.updatedAt);
  return Number.isFinite(since) && now - since >= idleMs;
}
