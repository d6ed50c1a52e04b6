/**
 * The ECS calls of the shared task definitions' garbage collection (functions/commands/task-definition-gc.ts).
 *
 * AWS (Amazon ECS API Reference):
 * - DeregisterTaskDefinition marks a revision INACTIVE. Services and tasks that reference it keep
 *   running and scaling, but no new task, new service or service update may use it ("there may be
 *   up to a 10-minute window following deregistration where these restrictions have not yet taken effect").
 * - DeleteTaskDefinitions takes up to 10 revisions per call, only INACTIVE ones; each moves to
 *   DELETE_IN_PROGRESS and stays there until no task or service references it.
 * - ListTaskDefinitions' `familyPrefix` is a full family name, so the account's revisions are read
 *   without it (100 per page) and only `fledge-td-*` ones kept.
 */
import {
  DeleteTaskDefinitionsCommand, DeregisterTaskDefinitionCommand, DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand,
  type Tag as EcsTag,
} from '@aws-sdk/client-ecs';
import { isInstallationExecutionRole } from '#domain/execution-roles.ts';
import { isSharedFamily, parseRevisionArn, type Revision, type RevisionFacts } from '#domain/task-definition-gc.ts';
import { ecsClient } from './clients/ecs.ts';
import { CallCounter, iso, type InstallationScope } from './tagged-resources.ts';

/** DeleteTaskDefinitions' limit per call (API reference: "You can specify up to 10 task definitions"). */
export const DELETE_BATCH = 10;

/** Every `fledge-td-*` revision of the account in `status`. */
export async function sharedRevisions(status: Revision['status'], counter = new CallCounter()): Promise<Revision[]> {
  const found: Revision[] = [];
  let nextToken: string | undefined;
  do {
    const page = await counter.count(ecsClient().send(new ListTaskDefinitionsCommand({ status, nextToken, maxResults: 100 })));
    for (const arn of (page.taskDefinitionArns as string[] | undefined) ?? []) {
      const parsed = parseRevisionArn(arn);
      if (parsed && isSharedFamily(parsed.family)) found.push({ arn, ...parsed, status });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return found;
}

/** When a revision was registered and whether this installation registered it; undefined when it is gone. */
export async function revisionFacts(arn: string, scope: Pick<InstallationScope, 'executionRoleArn' | 'installationId'>, counter = new CallCounter()): Promise<RevisionFacts | undefined> {
  try {
    const result = await counter.count(ecsClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] })));
    const td = result.taskDefinition;
    if (!td) return undefined;
    const managed = ((result.tags as EcsTag[] | undefined) ?? []).some((t) => t.key === 'fledge:managed-by' && t.value === 'fledge');
    return { registeredAt: iso(td.registeredAt), ours: managed && isInstallationExecutionRole(td.executionRoleArn, scope.executionRoleArn, scope.installationId) };
  } catch (error) {
    if ((error as Error).name === 'ClientException') return undefined; // deleted meanwhile
    throw error;
  }
}

/** Deregisters one revision; an INACTIVE one is done already. */
export async function deregisterRevision(arn: string, counter = new CallCounter()): Promise<void> {
  await counter.count(ecsClient().send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn })));
}

/** Deletes up to DELETE_BATCH INACTIVE revisions: those deleted (or gone already), and those refused with the reason. */
export async function deleteRevisions(arns: string[], counter = new CallCounter()): Promise<{ deleted: string[]; failed: { arn: string; reason: string }[] }> {
  const result = await counter.count(ecsClient().send(new DeleteTaskDefinitionsCommand({ taskDefinitions: arns })));
  const failed = ((result.failures as { arn?: string; reason?: string }[] | undefined) ?? [])
    // one that does not exist any more is done
    .filter((f) => f.arn && !/does not exist/i.test(f.reason ?? ''))
    .map((f) => ({ arn: f.arn!, reason: f.reason ?? 'unknown' }));
  const refused = new Set(failed.map((f) => f.arn));
  return { deleted: arns.filter((arn) => !refused.has(arn)), failed };
}
