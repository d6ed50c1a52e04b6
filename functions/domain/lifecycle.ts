/** The lifecycle (README "Using the API") as data: every status, every allowed transition. Pure. */
export const STATUSES = [
  'CREATING', 'RUNNING', 'UPDATING', 'SCALING', 'SLEEPING', 'HEALING', 'DEGRADED', 'FAILED', 'DELETING', 'DELETED',
] as const;

export type Status = (typeof STATUSES)[number];

const TRANSITIONS: Readonly<Record<Status, readonly Status[]>> = {
  CREATING: ['RUNNING', 'FAILED', 'DELETING'],
  RUNNING: ['UPDATING', 'SCALING', 'SLEEPING', 'HEALING', 'DELETING'],
  UPDATING: ['RUNNING', 'FAILED', 'DELETING'],
  SCALING: ['RUNNING', 'SLEEPING', 'DELETING'],
  SLEEPING: ['SCALING', 'UPDATING', 'DELETING'],
  HEALING: ['RUNNING', 'DEGRADED', 'DELETING'],
  DEGRADED: ['HEALING', 'UPDATING', 'DELETING'],
  FAILED: ['UPDATING', 'DELETING'],
  DELETING: ['DELETED'],
  DELETED: [],
};

export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses in which a workflow is running for the environment. */
const IN_FLIGHT: ReadonlySet<Status> = new Set(['CREATING', 'UPDATING', 'SCALING', 'HEALING', 'DELETING']);

export function hasOperationInFlight(status: Status): boolean {
  return IN_FLIGHT.has(status);
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
