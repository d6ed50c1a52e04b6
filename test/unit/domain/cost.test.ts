/**
 * The cost estimate (functions/domain/cost.ts, README "Cost"): task size at the region's price,
 * times the running count, over the task-time accrued change by change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countChanged, estimateCost, FARGATE_MINIMUM_BILLED_SECONDS, hookTaskSeconds, taskHourPrice, taskSecondsAt, taskTimeOf, totalCost, type TaskTime } from '../../../functions/domain/cost.ts';
import { FARGATE_PRICES, tablePrice } from '../../../functions/contract/fargate-prices.ts';

const PRICE = { vcpuHour: 0.04048, gbHour: 0.004445 };
const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const small = { cpu: 256, memory: 512 };
/** one small task an hour: 0.25 x 0.04048 + 0.5 x 0.004445 */
const HOUR = 0.0123425;
const r4 = (usd: number) => Math.round(usd * 10_000) / 10_000;

/** A record that was created at T0 and whose count changed as `changes` say ([seconds after T0, count]). */
function recordAfter(changes: [number, number][]) {
  let taskTime: TaskTime = { seconds: 0, count: 0, since: at(0) };
  for (const [second, count] of changes) taskTime = countChanged(taskTime, count, at(second)) ?? taskTime;
  return { spec: small, runningCount: taskTime.count, createdAt: at(0), taskTime };
}

describe('estimateCost', () => {
  it('prices a task by its vCPU and GB of memory (1024 CPU units = 1 vCPU, 1024 MiB = 1 GB)', () => {
    expect(taskHourPrice(small, PRICE)).toBeCloseTo(HOUR, 10);
    expect(taskHourPrice({ cpu: 1024, memory: 2048 }, PRICE)).toBeCloseTo(0.04048 + 2 * 0.004445, 10);
  });

  it('accrues the running tasks an hour at a time, rounded to 4 decimals, in USD', () => {
    const record = recordAfter([[0, 2]]);
    const cost = estimateCost(record, PRICE, new Date(T0 + 3 * 3_600_000));
    expect(cost).toEqual({ perHour: r4(2 * HOUR), toDate: r4(6 * HOUR), currency: 'USD' });
    expect(cost.perHour).toBe(0.0247);
  });

  it('sleeping is free: nothing accrues at count 0 and the hourly rate is 0', () => {
    // one task for an hour, asleep for ten, awake again for an hour
    const record = recordAfter([[0, 1], [3600, 0], [11 * 3600, 1]]);
    const asleep = recordAfter([[0, 1], [3600, 0]]);
    expect(estimateCost(asleep, PRICE, new Date(T0 + 5 * 3_600_000))).toEqual({ perHour: 0, toDate: r4(HOUR), currency: 'USD' });
    expect(estimateCost(asleep, PRICE, new Date(T0 + 10 * 3_600_000)).toDate).toBe(r4(HOUR));
    expect(estimateCost(record, PRICE, new Date(T0 + 12 * 3_600_000))).toEqual({ perHour: r4(HOUR), toDate: r4(2 * HOUR), currency: 'USD' });
  });

  it('a scale changes the rate from the moment it is recorded', () => {
    const record = recordAfter([[0, 1], [3600, 4]]);
    const cost = estimateCost(record, PRICE, new Date(T0 + 2 * 3_600_000));
    expect(cost.perHour).toBe(r4(4 * HOUR));
    expect(cost.toDate).toBe(r4(5 * HOUR));
  });

  it('a record from before task-time was kept runs its current count since it was created', () => {
    const legacy = { spec: small, runningCount: 2, createdAt: at(0) };
    expect(taskTimeOf(legacy)).toEqual({ seconds: 0, count: 2, since: at(0) });
    expect(estimateCost(legacy, PRICE, new Date(T0 + 3_600_000)).toDate).toBe(r4(2 * HOUR));
  });

  it('totals several environments before rounding', () => {
    const records = [recordAfter([[0, 1]]), recordAfter([[0, 0]]), recordAfter([[0, 3]])];
    // 4 tasks x 0.0123425 = 0.04937
    expect(totalCost(records, PRICE, new Date(T0 + 3_600_000))).toEqual({ perHour: 0.0494, toDate: 0.0494, currency: 'USD' });
    expect(totalCost([], PRICE, new Date(T0))).toEqual({ perHour: 0, toDate: 0, currency: 'USD' });
  });
});

describe('countChanged', () => {
  it('changes nothing when the count stays (a replayed step folds nothing)', () => {
    const taskTime = { seconds: 10, count: 2, since: at(100) };
    expect(countChanged(taskTime, 2, at(500))).toBeUndefined();
  });

  it('never accrues backwards: a change stamped before `since` (two Lambdas\' clocks) adds nothing and keeps `since`', () => {
    expect(countChanged({ seconds: 10, count: 2, since: at(100) }, 1, at(90))).toEqual({ seconds: 10, count: 1, since: at(100) });
  });

  it('accrues exactly the integral of the count over time, whatever the order of changes, repeats and replays', () => {
    // a history of count changes at increasing times, each possibly delivered twice (a retried
    // step whose first attempt already recorded it): toDate is the exact task-seconds
    const step = fc.record({ gap: fc.integer({ min: 0, max: 36_000 }), count: fc.integer({ min: 0, max: 10 }), replayed: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 0, max: 36_000 }), (steps, tail) => {
        let taskTime: TaskTime = { seconds: 0, count: 0, since: at(0) };
        let second = 0;
        let expected = 0;
        let count = 0;
        for (const s of steps) {
          expected += count * s.gap;
          second += s.gap;
          count = s.count;
          taskTime = countChanged(taskTime, s.count, at(second)) ?? taskTime;
          // the replay comes later, finds the count recorded already and changes nothing
          if (s.replayed) expect(countChanged(taskTime, s.count, at(second + 1))).toBeUndefined();
        }
        expected += count * tail;
        expect(taskSecondsAt(taskTime, at(second + tail))).toBeCloseTo(expected, 6);
        const cost = estimateCost({ spec: small, runningCount: count, taskTime }, PRICE, new Date(T0 + (second + tail) * 1000));
        expect(cost.toDate).toBeCloseTo((expected / 3600) * taskHourPrice(small, PRICE), 4);
        expect(cost.perHour).toBeCloseTo(count * taskHourPrice(small, PRICE), 4);
      }),
      { numRuns: 300 },
    );
  });
});

describe('hook task time (issue 17)', () => {
  it('bills a hook\'s task from its image pull to its stop, rounded up to the second, at least a minute', () => {
    expect(hookTaskSeconds({ pullStartedAt: at(0), startedAt: at(20), stoppedAt: at(200.2) })).toBe(201);
    expect(hookTaskSeconds({ startedAt: new Date(T0), stoppedAt: new Date(T0 + 90_000) })).toBe(90);
    expect(hookTaskSeconds({ createdAt: at(0), stoppedAt: at(5) })).toBe(FARGATE_MINIMUM_BILLED_SECONDS);
    // never started (a failed pull) or not stopped yet: the minimum Fargate bills
    expect(hookTaskSeconds({ pullStartedAt: at(0) })).toBe(60);
    expect(hookTaskSeconds({ stoppedAt: at(0) })).toBe(60);
    expect(hookTaskSeconds({ startedAt: 'not a time', stoppedAt: at(0) })).toBe(60);
  });

  it('counts hook seconds in toDate at the task\'s size, never in the hourly rate', () => {
    const record = { ...recordAfter([[0, 1]]), hookSeconds: 1800 };
    const cost = estimateCost(record, PRICE, new Date(T0 + 3_600_000));
    expect(cost).toEqual({ perHour: r4(HOUR), toDate: r4(1.5 * HOUR), currency: 'USD' });
    const asleep = { ...recordAfter([[0, 0]]), hookSeconds: 3600 };
    expect(estimateCost(asleep, PRICE, new Date(T0 + 3_600_000))).toEqual({ perHour: 0, toDate: r4(HOUR), currency: 'USD' });
    const larger = { ...asleep, spec: { cpu: 1024, memory: 2048 } };
    expect(estimateCost(larger, PRICE, new Date(T0)).toDate).toBe(r4(taskHourPrice(larger.spec, PRICE)));
    expect(totalCost([record, asleep], PRICE, new Date(T0 + 3_600_000)).toDate).toBe(r4(2.5 * HOUR));
  });
});

describe('the price table', () => {
  it('has every region Fledge documents and the common ones, each with its source', () => {
    for (const region of ['us-east-1', 'eu-west-1', 'eu-central-1']) {
      expect(tablePrice(region), region).toEqual({ vcpuHour: expect.any(Number), gbHour: expect.any(Number) });
    }
    for (const [region, entry] of Object.entries(FARGATE_PRICES)) {
      expect(entry.readFrom, region).not.toBe('');
      expect(entry.vcpuHour / entry.gbHour, region).toBeGreaterThan(5);
    }
    expect(tablePrice('xx-nowhere-1')).toBeUndefined();
  });
});
