import { describe, expect, it } from 'vitest';
import { STATUSES, hasOperationInFlight, isLive } from '../../../functions/domain/lifecycle.ts';

describe('lifecycle', () => {
  it('knows which statuses have an operation in flight and which are live', () => {
    expect(STATUSES.filter(hasOperationInFlight)).toEqual(['CREATING', 'UPDATING', 'SCALING', 'HEALING', 'DELETING']);
    expect(STATUSES.filter((s) => !isLive(s))).toEqual(['DELETED']);
  });
});
