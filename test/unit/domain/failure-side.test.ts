import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../functions/domain/environment.ts';
import { FAILURE_SIDE, failureSide } from '../../../functions/domain/failure-side.ts';
import { quotaUsedPercent } from '../../../functions/domain/quota-usage.ts';

describe('whose failure it is', () => {
  it("counts the app's and the image's failures as the user's, Fledge's and AWS's as the control plane's", () => {
    expect(ERROR_CODES.filter((code) => failureSide(code) === 'control-plane')).toEqual(['AWS_LIMIT', 'INTERNAL']);
    for (const code of ['IMAGE_PULL_FAILED', 'TASK_EXITED', 'OUT_OF_MEMORY', 'HEALTH_CHECK_FAILED', 'QUOTA_EXCEEDED', 'TIMEOUT'] as const) {
      expect(failureSide(code)).toBe('user');
    }
    expect(Object.keys(FAILURE_SIDE).sort()).toEqual([...ERROR_CODES].sort());
  });
});

describe('quotaUsedPercent', () => {
  it('is the fullest quota: the global one or the fullest repository', () => {
    expect(quotaUsedPercent({ total: 0, repositories: {} }, { global: 99, perRepository: 20 })).toBe(0);
    expect(quotaUsedPercent({ total: 50, repositories: { a: 4 } }, { global: 100, perRepository: 20 })).toBe(50);
    expect(quotaUsedPercent({ total: 10, repositories: { a: 2, b: 17 } }, { global: 100, perRepository: 20 })).toBe(85);
  });
});
