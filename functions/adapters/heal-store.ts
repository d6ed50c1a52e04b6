/**
 * The heal workflow's writes to the environment item (README "Self-healing"): each attempt's time
 * (what bounds heals per hour), the end of a heal (RUNNING, or DEGRADED). Like every
 * workflow write (operation-store.ts), each is one conditional transaction on "the operation
 * is still this heal and still running", so a DELETE that superseded the heal makes it a
 * no-op: a heal never writes over an environment being deleted.
 */
import type { OperationError } from '#domain/environment.ts';
import type { EnvironmentEvent } from '#domain/events.ts';
import { finishWrite, operationEnd, restoredSpec, WAIT_BOOKKEEPING } from './operation-store.ts';

/** Records an attempt (the window's attempts, this one last) with its events; false if the heal is no longer current. */
export async function recordHealAttempt(name: string, operationId: string, attempts: string[], now: string, events: EnvironmentEvent[]): Promise<boolean> {
  return finishWrite(name, operationId, { set: { healAttempts: attempts, updatedAt: now } }, events);
}

export interface HealCompletion {
  name: string;
  operationId: string;
  specVersion: number;
  runningCount: number;
  /** set when the heal changed what runs (a rollback, a recreated service) */
  healthyImages?: { lastHealthyImage: string; healthyImages: string[] };
  /** set when the heal runs another image than the spec's (a rollback): the desired spec says it again */
  restoredImage?: string;
  now: string;
  events: EnvironmentEvent[];
}

/** HEALING -> RUNNING, if the heal is still current and the desired spec did not move. */
export async function completeHeal(c: HealCompletion): Promise<boolean> {
  return finishWrite(
    c.name,
    c.operationId,
    {
      set: {
        ...operationEnd('RUNNING', 'SUCCEEDED', c.now),
        ...(c.healthyImages ?? {}),
        ...(c.restoredImage ? restoredSpec(c.specVersion, c.restoredImage) : {}),
      },
      remove: WAIT_BOOKKEEPING,
      condition: { expression: '#specVersion = :sv', values: { ':sv': c.specVersion } },
      count: { runningCount: c.runningCount, at: c.now },
    },
    c.events,
  );
}

export interface Degradation {
  name: string;
  operationId: string;
  error: OperationError;
  now: string;
  events: EnvironmentEvent[];
}

/** HEALING -> DEGRADED: the heal gave up; the operation FAILED with the reason. */
export async function markDegraded(d: Degradation): Promise<boolean> {
  return finishWrite(
    d.name,
    d.operationId,
    {
      set: operationEnd('DEGRADED', 'FAILED', d.now, d.error),
      remove: WAIT_BOOKKEEPING,
    },
    d.events,
  );
}
