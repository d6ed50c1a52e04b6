import { describe, expect, it } from 'vitest';
import { STATUSES, canTransition, hasOperationInFlight, isLive, type Status } from '../../../functions/domain/lifecycle.ts';

// README "Using the API", written out as the spec writes it.
const ALLOWED: Record<Status, Status[]> = {
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

describe('lifecycle', () => {
  const pairs = STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as const));

  it.each(pairs)('%s -> %s is allowed exactly when README "Using the API" lists it', (from, to) => {
    expect(canTransition(from, to)).toBe(ALLOWED[from].includes(to));
  });

  it('lets every status but DELETED and DELETING go to DELETING', () => {
    for (const status of STATUSES) {
      expect(canTransition(status, 'DELETING')).toBe(status !== 'DELETED' && status !== 'DELETING');
    }
  });

  it('knows which statuses have an operation in flight and which are live', () => {
    expect(STATUSES.filter(hasOperationInFlight)).toEqual(['CREATING', 'UPDATING', 'SCALING', 'HEALING', 'DELETING']);
    expect(STATUSES.filter((s) => !isLive(s))).toEqual(['DELETED']);
  });
});
