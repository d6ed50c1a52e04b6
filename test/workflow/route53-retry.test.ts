/**
 * The Route 53 Retry entries (statemachines/source/retry-policies.ts) against Route 53's
 * buckets (Route 53 Developer Guide, "Throttling for Amazon Route 53 API requests": the account's
 * and each action's, 50 refilled 10 a second, plus a change-throughput bucket of unpublished size
 * here): N creates (or teardowns) changing records at once need (N - 50) / 10 s; the retries of one
 * state must outlast that, with margin, for the bench's 1,000 environments. Only errors another
 * try can fix are retried.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lambdaRoute53ThrottlingRetry, lambdaThrottlingRetry, route53Retry, route53ServerRetry } from '../../statemachines/source/retry-policies.ts';

type Retrier = typeof route53Retry;

/** Expected total wait of a Retry with FULL jitter: each wait is uniform in [0, min(cap, interval * rate^k)]. */
function expectedWaitSeconds(r: Retrier): number {
  let total = 0;
  for (let k = 0; k < r.MaxAttempts; k++) total += Math.min(Number(r.MaxDelaySeconds ?? Infinity), r.IntervalSeconds * r.BackoffRate ** k) / 2;
  return total;
}

/** Every Route 53 Task state of the built workflows (statemachines/*.asl.json), by workflow and state name. */
function route53States(): { where: string; retry: Retrier[] }[] {
  const dir = join(import.meta.dirname, '../../statemachines');
  const found: { where: string; retry: Retrier[] }[] = [];
  const visit = (file: string, states: Record<string, Record<string, unknown>>) => {
    for (const [name, state] of Object.entries(states)) {
      if (String(state.Resource ?? '').includes(':aws-sdk:route53:')) found.push({ where: `${file} ${name}`, retry: (state.Retry ?? []) as Retrier[] });
      for (const nested of [state, ...((state.Branches ?? []) as Record<string, unknown>[]), (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined]) {
        if (nested && nested !== state && nested.States) visit(file, nested.States as Record<string, Record<string, unknown>>);
      }
    }
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.asl.json'))) visit(file, JSON.parse(readFileSync(join(dir, file), 'utf8')).States);
  return found;
}

describe('route53Retry', () => {
  it("retries exactly Route 53's throttling (HTTP 400 Throttling, undeclared: the catch-all; the declared ThrottlingException) and PriorRequestNotComplete, with full jitter", () => {
    expect(route53Retry.ErrorEquals).toEqual(['Route53.Route53Exception', 'Route53.ThrottlingException', 'Route53.PriorRequestNotCompleteException']);
    expect(route53Retry).toMatchObject({ JitterStrategy: 'FULL', BackoffRate: 2 });
  });

  it('outlasts the request buckets twice over for 1,000 environments changing records at once ((1,000 - 50) / 10 per second = 95 s)', () => {
    expect(expectedWaitSeconds(route53Retry)).toBeGreaterThan(2 * ((1000 - 50) / 10));
    // and keeps the bucket busy: a throttled caller tries again within 2.5 s on average
    expect(Number(route53Retry.MaxDelaySeconds) / 2).toBeLessThanOrEqual(2.5);
  });
});

describe('route53ServerRetry', () => {
  it('the network gets a few tries, not the throttling budget (Route 53\'s undeclared faults arrive as the catch-all, retried with its throttling)', () => {
    expect(route53ServerRetry.ErrorEquals).toEqual(['Route53.SdkClientException']);
    expect(route53ServerRetry.MaxAttempts).toBeLessThanOrEqual(4);
  });
});

describe('the Route 53 states of the built workflows', () => {
  const states = route53States();

  it('are there (create, teardown, heal) and carry both Retry entries', () => {
    expect(new Set(states.map((s) => s.where.split(' ')[0]))).toEqual(new Set(['create.asl.json', 'teardown.asl.json', 'heal.asl.json']));
    for (const { where, retry } of states) expect(retry, where).toEqual([route53Retry, route53ServerRetry]);
  });

  it("retry none of the caller's declared errors (InvalidInput, InvalidChangeBatch, NoSuchHostedZone), nor everything (States.ALL)", () => {
    // AccessDenied is not in Route 53's model: it arrives as Route53.Route53Exception, with the throttles (dns.test.ts)
    const callers = ['InvalidInput', 'InvalidChangeBatch', 'NoSuchHostedZone'].map((code) => `Route53.${code}Exception`);
    for (const { where, retry } of states) {
      const retried = retry.flatMap((r) => r.ErrorEquals);
      for (const error of [...callers, 'States.ALL', 'States.TaskFailed']) expect(retried, `${where} retries ${error}`).not.toContain(error);
    }
  });
});

describe("the create's look at its name (PlanResources' ListResourceRecordSets, per-environment DNS)", () => {
  const create = JSON.parse(readFileSync(join(import.meta.dirname, '../../statemachines/create.asl.json'), 'utf8')) as { States: Record<string, { Retry?: Retrier[] }> };
  const retry = create.States.PlanResources!.Retry!;

  it("Route 53's Throttling gets Route 53's budget, ahead of the Lambda-wide throttling entry; DnsNameInUse is never retried", () => {
    const at = retry.findIndex((r) => r.ErrorEquals.includes('Throttling'));
    expect(retry[at]).toEqual(lambdaRoute53ThrottlingRetry);
    expect(at).toBeLessThan(retry.findIndex((r) => r === lambdaThrottlingRetry || JSON.stringify(r) === JSON.stringify(lambdaThrottlingRetry)));
    expect(expectedWaitSeconds(lambdaRoute53ThrottlingRetry)).toBeGreaterThan(2 * ((1000 - 50) / 10));
    for (const entry of retry) expect(entry.ErrorEquals).not.toEqual(expect.arrayContaining(['DnsNameInUse']));
    for (const entry of retry) expect(entry.ErrorEquals).not.toContain('States.ALL');
  });
});
