/**
 * Which shared task definition revisions (`fledge-td-<hash>`, docs/design.md "Shared task
 * definitions") the scheduled cleanup may deregister and delete. Pure: the cleanup gathers what
 * is in use (services, live records, plan steps' picks) and this decides.
 *
 * A revision is in use, and kept, when
 * - a service of the cluster runs or deploys it (any deployment: an update the circuit breaker
 *   may roll back to the previous deployment still lists that deployment);
 * - it is the latest ACTIVE revision of a family a live environment renders to: its spec's
 *   image, or an image a heal may roll back to (its healthy images). A create or a heal finds
 *   the family's latest ACTIVE revision (DescribeTaskDefinition with the bare family) and runs it;
 * - its family was picked by a plan step within the grace (`lastUsedAt`): PlanResources finds an
 *   ACTIVE revision and CreateService runs it seconds later, before any service shows it;
 * - it was registered within the grace: an update registers a revision and deploys it right away.
 * Everything else of the installation is collected: ACTIVE revisions are deregistered first,
 * INACTIVE ones deleted (DeleteTaskDefinitions takes only INACTIVE revisions).
 */
import type { EnvironmentSpec } from './environment-spec.ts';
import {
  renderTaskDefinition, taskDefinitionFamily, taskDefinitionHash, TASK_DEFINITION_FAMILY_PREFIX, type PlanSettings,
} from './resource-plan.ts';

/** One revision as ListTaskDefinitions names it: `...:task-definition/<family>:<revision>`. */
export interface Revision {
  arn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
}

/** `...:task-definition/<family>:<revision>` -> its family and revision; undefined for anything else. */
export function parseRevisionArn(arn: string): { family: string; revision: number } | undefined {
  const match = /:task-definition\/([A-Za-z0-9_-]+):(\d+)$/.exec(arn);
  return match ? { family: match[1]!, revision: Number(match[2]) } : undefined;
}

export const isSharedFamily = (family: string) => family.startsWith(TASK_DEFINITION_FAMILY_PREFIX);

/** What a live record may run: its spec and the images a heal may roll back to (functions/domain/healing.ts rollbackImage). */
export interface LiveDefinitionSource {
  spec: EnvironmentSpec;
  lastHealthyImage?: string;
  healthyImages?: string[];
}

/** The families a live environment renders to: its spec's, and its spec with each healthy image. */
export function familiesOf(record: LiveDefinitionSource, settings: Omit<PlanSettings, 'loadBalancerDimension'>): string[] {
  const images = new Set([record.spec.image, ...(record.healthyImages ?? []), ...(record.lastHealthyImage ? [record.lastHealthyImage] : [])]);
  return [...images].map((image) =>
    taskDefinitionFamily(taskDefinitionHash(renderTaskDefinition({ ...record.spec, image }, settings), record.spec.labels.repository)),
  );
}

export interface UsageEvidence {
  /** revision ARNs that services of the cluster run or deploy */
  running: ReadonlySet<string>;
  /** families live environments render to */
  liveFamilies: ReadonlySet<string>;
  /** family -> when a plan step last picked it (ISO) */
  lastUsedAt: ReadonlyMap<string, string>;
  /** the cleanup's now minus the grace (ISO): a use after it keeps the family */
  graceEnd: string;
}

export type KeptBecause = 'service' | 'live-environment' | 'recently-picked';

export interface CollectionPlan {
  /** oldest families first, lowest revisions first: what may go, pending the per-revision checks (registration time, ownership) */
  candidates: Revision[];
  kept: { arn: string; because: KeptBecause }[];
}

/** Decides family by family which revisions are candidates; only `fledge-td-*` revisions are ever looked at. */
export function planCollection(revisions: readonly Revision[], evidence: UsageEvidence): CollectionPlan {
  const byFamily = new Map<string, Revision[]>();
  for (const r of revisions) {
    if (!isSharedFamily(r.family)) continue;
    byFamily.set(r.family, [...(byFamily.get(r.family) ?? []), r]);
  }
  const candidates: Revision[] = [];
  const kept: CollectionPlan['kept'] = [];
  for (const family of [...byFamily.keys()].sort()) {
    const group = byFamily.get(family)!.sort((a, b) => a.revision - b.revision);
    const picked = evidence.lastUsedAt.get(family);
    const latestActive = group.filter((r) => r.status === 'ACTIVE').at(-1);
    for (const r of group) {
      if (evidence.running.has(r.arn)) kept.push({ arn: r.arn, because: 'service' });
      else if (picked !== undefined && picked > evidence.graceEnd) kept.push({ arn: r.arn, because: 'recently-picked' });
      else if (r === latestActive && evidence.liveFamilies.has(family)) kept.push({ arn: r.arn, because: 'live-environment' });
      else candidates.push(r);
    }
  }
  return { candidates, kept };
}

/** A revision's own facts (DescribeTaskDefinition), checked right before it is deregistered. */
export interface RevisionFacts {
  registeredAt?: string;
  /** its task execution role is one of this installation's and it carries `fledge:managed-by=fledge` */
  ours: boolean;
}

/** Why a candidate is still not collected, or undefined when it may go. */
export function holdBack(candidate: Revision, facts: RevisionFacts, graceEnd: string): 'not-ours' | 'registered-recently' | undefined {
  if (!facts.ours) return 'not-ours';
  // an INACTIVE revision can no longer be deployed: only its deletion is left, whenever it was registered
  if (candidate.status === 'ACTIVE' && (!facts.registeredAt || facts.registeredAt > graceEnd)) return 'registered-recently';
  return undefined;
}
