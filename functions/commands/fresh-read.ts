/**
 * Lost races. Every command decides on a read and writes conditionally on its version;
 * workflow steps bump the version meanwhile, so a write can lose to one. These are the one
 * retry loop for that: read again, decide again, a few times.
 */
import { Conflict, PreconditionFailed, VersionConflict } from '#domain/errors.ts';
import type { CommandResult } from './environment-commands.ts';

/** Tries `attempt` up to `attempts` times while it fails with an error `lost` calls a lost race. */
export async function retryingLostRaces<T>(attempts: number, lost: (error: unknown) => boolean, attempt: () => Promise<T>): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (!lost(error) || tried >= attempts) throw error;
    }
  }
}

/**
 * A command the control plane runs on its own names the version it read (If-Match): a 409 or
 * 412 then means the environment changed meanwhile, and the change that won stands.
 */
export function changedMeanwhile(error: unknown): boolean {
  return error instanceof Conflict || error instanceof PreconditionFailed;
}

const RACE_ATTEMPTS = 4;

/**
 * Without `If-Match` the caller asked for "the latest accepted spec wins", so a lost race is
 * decided again on a fresh read (a few times) instead of answering 409; with `If-Match` the
 * caller named a version, so the race is theirs to see.
 */
export function decidedOnFreshRead(ifMatch: string | undefined, decide: () => Promise<CommandResult>): Promise<CommandResult> {
  return retryingLostRaces(RACE_ATTEMPTS, (error) => error instanceof VersionConflict && ifMatch === undefined, decide);
}
