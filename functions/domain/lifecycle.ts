/**
 * The statuses of an environment (README "Using the API") and the rules the commands decide
 * by. Pure.
 *
 * There is deliberately no transition table here: which status follows which is decided by
 * the command or workflow step that makes the change (a create may end SLEEPING, a lost scale
 * settles RUNNING or SLEEPING...), and the requests' rules are the predicates below,
 * `acceptsScale` (scaling.ts) and `acceptsHeal` (healing.ts), each proved by the API tests
 * (a refused request answers 409 and changes nothing).
 */
export const STATUSES = [
  'CREATING', 'RUNNING', 'UPDATING', 'SCALING', 'SLEEPING', 'HEALING', 'DEGRADED', 'FAILED', 'DELETING', 'DELETED',
] as const;

export type Status = (typeof STATUSES)[number];

/** Statuses in which a workflow is running for the environment (the one list: commands, waker, cleanup, local mode). */
export const IN_FLIGHT_STATUSES = ['CREATING', 'UPDATING', 'SCALING', 'HEALING', 'DELETING'] as const satisfies readonly Status[];

export type InFlightStatus = (typeof IN_FLIGHT_STATUSES)[number];

export function hasOperationInFlight(status: Status): boolean {
  return (IN_FLIGHT_STATUSES as readonly Status[]).includes(status);
}

/** Live = counts against quotas and owns its name: anything but DELETED. */
export function isLive(status: Status): boolean {
  return status !== 'DELETED';
}

/** Whether a PUT/PATCH may change the desired spec (README "Using the API": any status but DELETING/DELETED). */
export function acceptsSpecChanges(status: Status): boolean {
  return status !== 'DELETING' && status !== 'DELETED';
}

/** Statuses where re-sending the same spec means "try again" (README "Using the API"). */
export function retriesOnSameSpec(status: Status): boolean {
  return status === 'FAILED' || status === 'DEGRADED';
}
