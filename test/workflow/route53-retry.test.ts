/**
 * The Route 53 Retry (statemachines/source/retry-policies.ts) is sized to Route 53's bucket:
 * 5 requests a second per account, so N creates (or teardowns) changing records at once need
 * N/5 s; the retries of one state must outlast that for the bench's 1,000 environments.
 */
import { describe, expect, it } from 'vitest';
import { route53Retry } from '../../statemachines/source/retry-policies.ts';

/** Expected total wait of a Retry with FULL jitter: each wait is uniform in [0, min(cap, interval * rate^k)]. */
function expectedWaitSeconds(r: typeof route53Retry): number {
  let total = 0;
  for (let k = 0; k < r.MaxAttempts; k++) {
    total += Math.min(Number(r.MaxDelaySeconds ?? Infinity), r.IntervalSeconds * r.BackoffRate ** k) / 2;
  }
  return total;
}

describe('route53Retry', () => {
  it("retries Route 53's throttling and PriorRequestNotComplete with full jitter", () => {
    expect(route53Retry.ErrorEquals).toEqual(expect.arrayContaining(['Route53.ThrottlingException', 'Route53.PriorRequestNotCompleteException']));
    expect(route53Retry).toMatchObject({ JitterStrategy: 'FULL', BackoffRate: 2 });
    // an error that is the caller's (a record that exists, bad input) is not retried
    expect(route53Retry.ErrorEquals).not.toContain('Route53.InvalidChangeBatchException');
  });

  it('outlasts the bucket for 1,000 environments changing records at once (1,000 / 5 per second = 200 s)', () => {
    expect(expectedWaitSeconds(route53Retry)).toBeGreaterThan(1000 / 5);
    // and keeps the bucket busy: a throttled caller tries again within 5 s on average
    expect(Number(route53Retry.MaxDelaySeconds) / 2).toBeLessThanOrEqual(5);
  });
});
