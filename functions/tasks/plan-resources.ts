/**
 * PlanResources (create, update): renders the request inputs of the workflow's AWS steps
 * from the spec and, for a create, takes the environment's listener-rule priority and looks
 * for the (content-addressed, shared) task definition: when its family already has an ACTIVE
 * revision, `taskDefinition` is set and the create skips RegisterTaskDefinition
 * (docs/design.md "Shared task definitions").
 *
 * A create first waits out a service of the same name that is still DRAINING (a FAILED
 * create retried at once: its compensation deleted the service moments ago). ECS refuses
 * CreateService for a draining name ("Unable to Start a service that is still Draining";
 * Amazon ECS API reference, CreateService/DeleteService): ServiceStillDraining is retried by
 * the state, bounded, before anything is allocated.
 */
import { logger } from '#runtime/powertools.ts';
import { runtimeConfig } from '#runtime/config.ts';
import { previousHealthCheckFor, renderPlan, targetGroupHealthCheck } from '#domain/resource-plan.ts';
import { ServiceStillDraining } from '#domain/steady-state.ts';
import { forNextPass, type TaskPayload, type WorkflowState } from '#domain/workflow-state.ts';
import { deployPlan } from '#adapters/deploy-plan.ts';
import { appendEvents } from '#adapters/event-log.ts';
import { activeTaskDefinition, describeService, targetGroupOf } from '#adapters/fargate-resources.ts';
import { allocateListenerPriority } from '#adapters/operation-store.ts';
import { taskHandler } from '#lambda/task-handler.ts';

/**
 * The family's latest ACTIVE revision, or undefined. Only an optimisation: when the lookup is
 * throttled the create registers, and a throttled registration looks again (FindTaskDefinition).
 */
async function registeredTaskDefinition(family: string, image: string): Promise<string | undefined> {
  try {
    return await activeTaskDefinition(family, image);
  } catch (error) {
    if ((error as Error).name !== 'ThrottlingException') throw error;
    logger.info('task definition lookup throttled; the create registers', { family });
    return undefined;
  }
}

async function handle(payload: TaskPayload): Promise<WorkflowState> {
  const { workflow, state } = payload;
  const config = runtimeConfig();
  if (workflow === 'create') {
    const existing = await describeService(config.clusterArn, state.name);
    if (existing?.status === 'DRAINING') {
      logger.info('a service of this name is still draining; waiting before the create');
      throw new ServiceStillDraining(`an earlier ECS service "${state.name}" is still draining`);
    }
  }
  // an update keeps an autoscaled count where autoscaling put it (adapters/deploy-plan.ts)
  const plan = workflow === 'create'
    ? renderPlan(state.name, state.spec, config, state.operationId, state.specVersion)
    : await deployPlan(state.name, state.spec, config, state.operationId, state.specVersion);
  const next: WorkflowState = { ...forNextPass(state), plan, phase: workflow === 'create' ? 'create' : 'update' };
  if (workflow === 'create') {
    // reuses the priority the environment already holds (a retried step or a retried create)
    next.listenerPriority = await allocateListenerPriority(state.name, state.operationId);
  } else {
    // an update points the service's load balancer at the same target group (the port may change)
    const targetGroup = await targetGroupOf(state.name, config);
    const targetGroupArn = targetGroup?.TargetGroupArn;
    if (!targetGroupArn) {
      throw Object.assign(new Error(`the target group "${plan.targetGroup.Name}" does not exist: the environment must be re-created`), {
        name: 'TargetGroupNotFound',
      });
    }
    next.targetGroup = { arn: targetGroupArn };
    // the health check ModifyTargetGroup is about to replace: a rollback puts it back (RestoreHealthCheck)
    Object.assign(next, previousHealthCheckFor(targetGroupHealthCheck(targetGroup), plan));
  }
  await appendEvents(state.name, [
    {
      at: new Date().toISOString(),
      type: workflow === 'create' ? 'provisioning' : 'deploying',
      message: `${workflow === 'create' ? 'creating resources for' : 'deploying'} image ${plan.image} (spec version ${state.specVersion})`,
      operationId: state.operationId,
      actor: state.actor,
      ...(next.listenerPriority !== undefined ? { details: { listenerPriority: next.listenerPriority } } : {}),
    },
  ]);
  if (workflow === 'create') {
    // last, as close to RegisterTaskDefinition as it gets: a burst of creates of one content then finds the first one's revision
    const registered = await registeredTaskDefinition(plan.taskDefinition.Family, plan.image);
    if (registered) next.taskDefinition = { arn: registered };
    else delete next.taskDefinition;
  }
  logger.info('planned resources', {
    workflow, specVersion: state.specVersion, listenerPriority: next.listenerPriority,
    taskDefinitionFamily: plan.taskDefinition.Family, taskDefinitionRegistered: next.taskDefinition?.arn ?? null,
  });
  return next;
}

export const handler = taskHandler(handle);
