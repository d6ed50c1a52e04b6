/**
 * What an environment costs in Fargate compute (README "Cost"): its task size at the region's
 * price, times its tasks, over the time they ran.
 *
 * The record keeps `taskTime`: the task-seconds accrued up to `since`, and the `count` of tasks
 * running from then on. Every write that changes the environment's running count folds the
 * seconds since `since` in (`countChanged`) in the same conditional write
 * (functions/adapters/operation-store.ts `finishWrite`), so the accrual is exact: a sleeping
 * environment (count 0) accrues nothing, a scale changes the rate from the moment it is
 * recorded, and a replayed step finds the count already changed and folds nothing twice.
 *
 * Hooks run one-off tasks of the environment's own task definition, so of its size:
 * their billed seconds are kept apart, in `hookSeconds` (added once per task by
 * functions/adapters/hook-task-time.ts), and count in `toDate` like the service's task-seconds.
 */
import { z } from 'zod';

export interface TaskTime {
  /** task-seconds accrued up to `since` */
  seconds: number;
  /** the tasks running from `since` on */
  count: number;
  /** ISO time */
  since: string;
}

/** On-demand Fargate prices of one region, in USD (functions/contract/fargate-prices.ts). */
export interface FargatePrice {
  /** per vCPU-hour */
  vcpuHour: number;
  /** per GB-hour of memory */
  gbHour: number;
}

export const COST_CURRENCY = 'USD';

export interface Cost {
  /** what the tasks running now cost an hour */
  perHour: number;
  /** what the tasks cost since the environment was created */
  toDate: number;
  currency: typeof COST_CURRENCY;
}

/** An operator's prices (FLEDGE_FARGATE_PRICES, CDK context `fargatePrices`): both figures, nothing else. */
export const fargatePriceSchema = z.strictObject({
  vcpuHour: z.number().nonnegative().max(100),
  gbHour: z.number().nonnegative().max(100),
});

/** What `taskTime` needs from the record. */
export interface Accrual {
  taskTime?: TaskTime;
  runningCount: number;
  createdAt?: string;
  /** billed seconds of its hooks' tasks (`hookTaskSeconds`) */
  hookSeconds?: number;
}

/** The times of a stopped task that tell what Fargate billed (DescribeTasks: Date or ISO). */
export interface BilledTask {
  pullStartedAt?: string | Date | undefined;
  startedAt?: string | Date | undefined;
  createdAt?: string | Date | undefined;
  stoppedAt?: string | Date | undefined;
}

/**
 * The seconds Fargate bills for one task: "from the time you start to download your container
 * image until the Amazon ECS Task terminates, rounded up to the nearest second", with "a 1-minute
 * minimum charge" (AWS Fargate pricing, https://aws.amazon.com/fargate/pricing/). A task without
 * a pull time counts from its start, else its creation; one that never stopped (or has no start)
 * is billed the minimum. This is what a hook's run adds to the environment's cost.
 */
export const FARGATE_MINIMUM_BILLED_SECONDS = 60;

export function hookTaskSeconds(task: BilledTask): number {
  const from = task.pullStartedAt ?? task.startedAt ?? task.createdAt;
  if (!from || !task.stoppedAt) return FARGATE_MINIMUM_BILLED_SECONDS;
  const seconds = Math.ceil((new Date(task.stoppedAt).getTime() - new Date(from).getTime()) / 1000);
  return Number.isFinite(seconds) ? Math.max(FARGATE_MINIMUM_BILLED_SECONDS, seconds) : FARGATE_MINIMUM_BILLED_SECONDS;
}

/**
 * The record's task-time. A record written before it was kept has none: it is taken as having
 * run its current count since it was created (at worst an overestimate), until its count changes.
 */
export function taskTimeOf(record: Accrual, now: string = new Date().toISOString()): TaskTime {
  return record.taskTime ?? { seconds: 0, count: record.runningCount ?? 0, since: record.createdAt ?? now };
}

/** Task-seconds accrued by `at`; a time before `since` (clocks of two Lambdas) accrues nothing. */
export function taskSecondsAt(taskTime: TaskTime, at: string | Date): number {
  const elapsedMs = Math.max(0, new Date(at).getTime() - Date.parse(taskTime.since));
  return taskTime.seconds + (taskTime.count * elapsedMs) / 1000;
}

/**
 * The task-time after the running count becomes `count` at `at`, or undefined when the count
 * does not change (nothing to write: the accrual goes on as it is).
 */
export function countChanged(previous: TaskTime, count: number, at: string): TaskTime | undefined {
  if (previous.count === count) return undefined;
  const since = Date.parse(at) > Date.parse(previous.since) ? at : previous.since;
  return { seconds: taskSecondsAt(previous, at), count, since };
}

/** One task of this size, an hour: cpu in CPU units (1024 = 1 vCPU), memory in MiB (1024 = 1 GB, as Fargate bills). */
export function taskHourPrice(size: { cpu: number; memory: number }, price: FargatePrice): number {
  return (size.cpu / 1024) * price.vcpuHour + (size.memory / 1024) * price.gbHour;
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

interface Costed extends Accrual {
  spec: { cpu: number; memory: number };
}

function rawCost(record: Costed, price: FargatePrice, now: Date): { perHour: number; toDate: number } {
  const taskTime = taskTimeOf(record, now.toISOString());
  const perTask = taskHourPrice(record.spec, price);
  // hook tasks ran the same task definition, so at the same size (the spec's cpu/memory)
  const seconds = taskSecondsAt(taskTime, now) + (record.hookSeconds ?? 0);
  return { perHour: perTask * taskTime.count, toDate: (perTask * seconds) / 3600 };
}

/** The environment's cost now: its running tasks' hourly price and what its tasks cost so far (4 decimals). */
export function estimateCost(record: Costed, price: FargatePrice, now: Date): Cost {
  const { perHour, toDate } = rawCost(record, price, now);
  return { perHour: round4(perHour), toDate: round4(toDate), currency: COST_CURRENCY };
}

/** The cost of several environments together (summed before rounding). */
export function totalCost(records: readonly Costed[], price: FargatePrice, now: Date): Cost {
  let perHour = 0;
  let toDate = 0;
  for (const record of records) {
    const cost = rawCost(record, price, now);
    perHour += cost.perHour;
    toDate += cost.toDate;
  }
  return { perHour: round4(perHour), toDate: round4(toDate), currency: COST_CURRENCY };
}
