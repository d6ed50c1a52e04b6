/**
 * PlanResources (create, update): renders the request inputs of the workflow's AWS steps
 * from the spec and, for a create, takes the environment's listener-rule priority.
 */
import { logger } from '#commons/powertools.ts';
import { runtimeConfig } from '#commons/runtime-config.ts';
import { renderPlan } from '#domain/resource-plan.ts';
import { forNextPass, type TaskPayload, type WorkflowState } from '#domain/workflow-state.ts';
import { appendEvents } from '#adapters/event-log.ts';
import { targetGroupArnOf } from '#adapters/fargate-resources.ts';
import { allocateListenerPriority } from '#adapters/operation-store.ts';

export async function handler(payload: TaskPayload): Promise<WorkflowState> {
  const { workflow, state } = payload;
  logger.appendKeys({ environment: state.name, operationId: state.operationId, executionArn: payload.executionArn });
  const config = runtimeConfig();
  const plan = renderPlan(state.name, state.spec, config, state.operationId, state.specVersion);
  const next: WorkflowState = { ...forNextPass(state), plan, phase: workflow === 'create' ? 'create' : 'update' };
  if (workflow === 'create') {
    // reuses the priority the environment already holds (a retried step or a retried create)
    next.listenerPriority = await allocateListenerPriority(state.name, state.operationId);
  } else {
    // an update points the service's load balancer at the same target group (the port may change)
    const targetGroupArn = await targetGroupArnOf(state.name);
    if (!targetGroupArn) {
      throw Object.assign(new Error(`the target group "${state.name}" does not exist: the environment must be re-created`), {
        name: 'TargetGroupNotFound',
      });
    }
    next.targetGroup = { arn: targetGroupArn };
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
  logger.info('planned resources', { workflow, specVersion: state.specVersion, listenerPriority: next.listenerPriority });
  return next;
}
