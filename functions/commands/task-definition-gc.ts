/**
 * The garbage collection of shared task definition revisions (`fledge-td-<hash>`, docs/design.md
 * "Shared task definitions"), the last part of ReconcileOrphans. No environment owns a shared
 * revision, so no teardown removes one; without this, 1,000 environments a week leave tens of
 * thousands of revisions behind.
 *
 * 1. Read the account's `fledge-td-*` revisions (ACTIVE and INACTIVE), the live records (what they
 *    render to, rollback images included) and the families' `lastUsedAt` (plan steps' picks);
 *    the services of the cluster were read by the caller. functions/domain/task-definition-gc.ts decides.
 * 2. Family by family, oldest first: read `lastUsedAt` again before each deregistration (consistent: a
 *    create may have picked the family since), describe each ACTIVE candidate (its registration time; whether this installation
 *    registered it), deregister it, and delete INACTIVE revisions 10 per DeleteTaskDefinitions call.
 * 3. Pace both calls under AWS's buckets (Amazon ECS API Reference, "Request throttling for the Amazon
 *    ECS API": DeregisterTaskDefinition refills 1 token a second; DeleteTaskDefinitions is metered as a
 *    task definition mutation too, taken here at the same rate), back off and retry a throttled call,
 *    and stop at the run's deadline: the next run goes on where this one stopped.
 */
import { logger } from '#runtime/powertools.ts';
import { runtimeConfig } from '#runtime/config.ts';
import type { TaskDefinitionCollection } from '#domain/cleanup.ts';
import {
  familiesOf, holdBack, planCollection, type KeptBecause, type Revision, type RevisionFacts,
} from '#domain/task-definition-gc.ts';
import { everyEnvironment } from '#adapters/environment-store.ts';
import {
  DELETE_BATCH, deleteRevisions, deregisterRevision, revisionFacts, sharedRevisions,
} from '#adapters/shared-task-definitions.ts';
import { familyUse, familyUses } from '#adapters/task-definition-use.ts';
import type { CallCounter, InstallationScope } from '#adapters/tagged-resources.ts';

/** Time as the collection sees it: real time in Lambda, the simulator's clock in tests. */
export interface Pacing {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTime: Pacing = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/** One DeregisterTaskDefinition (and one DeleteTaskDefinitions) a second at most: their buckets' refill rate. */
export const MUTATION_INTERVAL_MS = 1_000;
/** DescribeTaskDefinition at most 10 a second: half its bucket's refill, the rest stays with the workflows. */
const DESCRIBE_INTERVAL_MS = 100;
/** A throttled call is tried again this many times, waiting 2, 4, 8 s; then the revision waits for the next run. */
const THROTTLE_RETRIES = 3;
/** ARNs named in the report (the counts are complete): the state of a Step Functions execution is bounded. */
const REPORTED_ARNS = 50;

export interface CollectInput {
  scope: Pick<InstallationScope, 'executionRoleArn' | 'installationId'>;
  /** revisions services of the cluster run or deploy */
  running: ReadonlySet<string>;
  /** the cleanup's now (ISO) */
  asOf: string;
  graceMs: number;
  /** stop starting new work at this time (pacing.now()) */
  deadline: number;
  counter: CallCounter;
  pacing?: Pacing;
}

const isThrottle = (error: unknown) => (error as Error).name === 'ThrottlingException';

export async function collectTaskDefinitions(input: CollectInput): Promise<TaskDefinitionCollection> {
  const { scope, counter } = input;
  const pacing = input.pacing ?? realTime;
  const graceEnd = new Date(Date.parse(input.asOf) - input.graceMs).toISOString();
  const report: TaskDefinitionCollection = { deregistered: 0, deleted: 0, kept: 0, pending: 0, throttled: 0, more: false, removed: [] };

  const revisions = [...(await sharedRevisions('ACTIVE', counter)), ...(await sharedRevisions('INACTIVE', counter))];
  if (revisions.length === 0) return report;
  const lastUsedAt = await familyUses([...new Set(revisions.map((r) => r.family))]);
  const evidence = { running: input.running, liveFamilies: new Set<string>(), lastUsedAt, graceEnd };
  // the live records are read only when something may go (they only ever keep more)
  if (planCollection(revisions, evidence).candidates.length > 0) {
    const settings = runtimeConfig();
    evidence.liveFamilies = new Set((await everyEnvironment({})).flatMap((record) => familiesOf(record, settings)));
  }
  const plan = planCollection(revisions, evidence);
  const kept: Partial<Record<KeptBecause | 'registered-recently' | 'not-ours', number>> = {};
  const keep = (because: keyof typeof kept, count = 1) => {
    kept[because] = (kept[because] ?? 0) + count;
    report.kept += count;
  };
  for (const k of plan.kept) keep(k.because);

  // one call of a kind per MUTATION_INTERVAL_MS; a throttle backs off, then leaves the call to the next run
  const last: Record<'deregister' | 'delete', number> = { deregister: -Infinity, delete: -Infinity };
  const paced = async <T>(kind: 'deregister' | 'delete', call: () => Promise<T>): Promise<T | 'throttled'> => {
    for (let attempt = 0; ; attempt++) {
      const wait = last[kind] + MUTATION_INTERVAL_MS * 2 ** attempt - pacing.now();
      if (wait > 0) await pacing.sleep(wait);
      last[kind] = pacing.now();
      try {
        return await call();
      } catch (error) {
        if (!isThrottle(error)) throw error;
        report.throttled += 1;
        if (attempt >= THROTTLE_RETRIES) return 'throttled';
      }
    }
  };

  let toDelete: string[] = [];
  const flush = async () => {
    const batch = toDelete;
    toDelete = [];
    if (batch.length === 0) return;
    const outcome = await paced('delete', () => deleteRevisions(batch, counter)).catch((error: Error) => {
      logger.warn('shared task definitions could not be deleted; the next run tries again', { arns: batch, error: { name: error.name, message: error.message } });
      return 'failed' as const;
    });
    if (outcome === 'throttled' || outcome === 'failed') {
      report.pending += batch.length;
      return;
    }
    report.deleted += outcome.deleted.length;
    report.pending += outcome.failed.length;
    report.removed.push(...outcome.deleted.slice(0, Math.max(0, REPORTED_ARNS - report.removed.length)));
    if (outcome.failed.length) logger.warn('DeleteTaskDefinitions refused revisions; the next run tries again', { failures: outcome.failed });
  };

  // DescribeTaskDefinition shares a bucket (100, then 20 a second) with the workflows' lookups: at most 10 a second here
  let lastDescribe = -Infinity;
  const described = async (arn: string) => {
    const wait = lastDescribe + DESCRIBE_INTERVAL_MS - pacing.now();
    if (wait > 0) await pacing.sleep(wait);
    lastDescribe = pacing.now();
    return revisionFacts(arn, scope, counter);
  };

  const families = new Map<string, Revision[]>();
  for (const r of plan.candidates) families.set(r.family, [...(families.get(r.family) ?? []), r]);
  let left = plan.candidates.length;
  /** a create may have picked the family since the use records were read: asked again (consistently) right before each deregistration */
  const pickedMeanwhile = async (family: string) => {
    const picked = await familyUse(family);
    return picked !== undefined && picked > graceEnd;
  };
  for (const [family, candidates] of families) {
    // content-addressed: every revision of a family names the same execution role; ownership is read once
    let ours: boolean | undefined;
    for (const [index, candidate] of candidates.entries()) {
      if (pacing.now() >= input.deadline) break;
      left -= 1;
      let facts: RevisionFacts | undefined;
      if (candidate.status === 'ACTIVE' || ours === undefined) {
        try {
          facts = await described(candidate.arn);
        } catch (error) {
          if (!isThrottle(error)) throw error;
          // the workflows' lookups share this bucket: leave the rest for the next run
          report.throttled += 1;
          report.pending += 1;
          continue;
        }
        if (!facts) continue; // deleted meanwhile
        ours = facts.ours;
      }
      const held = holdBack(candidate, facts ?? { ours: ours ?? false }, graceEnd);
      if (held) {
        // revisions are in registration order and share one execution role: what holds this one back holds the family's later ones
        keep(held, candidates.length - index);
        left -= candidates.length - index - 1;
        break;
      }
      if (candidate.status === 'ACTIVE') {
        const outcome = await paced('deregister', async () =>
          (await pickedMeanwhile(family)) ? ('picked' as const) : deregisterRevision(candidate.arn, counter).then(() => 'deregistered' as const),
        ).catch((error: Error) => {
          logger.warn('a shared task definition could not be deregistered; the next run tries again', { arn: candidate.arn, error: { name: error.name, message: error.message } });
          return 'failed' as const;
        });
        if (outcome === 'picked') {
          // the family is in use again: this revision and the family's others stay
          keep('recently-picked', candidates.length - index);
          left -= candidates.length - index - 1;
          break;
        }
        if (outcome !== 'deregistered') {
          report.pending += 1;
          continue;
        }
        report.deregistered += 1;
      }
      toDelete.push(candidate.arn);
      if (toDelete.length >= DELETE_BATCH) await flush();
    }
  }
  await flush();
  report.more = left > 0;
  logger.info('shared task definitions collected', {
    revisions: revisions.length, candidates: plan.candidates.length, ...report, removed: report.removed.length, kept, graceEnd,
  });
  return report;
}
