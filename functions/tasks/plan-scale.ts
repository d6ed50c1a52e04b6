/**
 * PlanScale (scale): reads what exists — the service (its count and task definition), the
 * environment's target group and listener rule — and renders the inputs of the scale
 * workflow's AWS steps from the desired spec: the count, the autoscaling target and policy
 * (or their removal), whether the rule must move (to the waker while the environment sleeps,
 * back to the service when it wakes), and whether the spec also needs a new task definition
 * revision (a PUT/PATCH that reached a sleeping environment, or a spec that moved while the
 * scale ran: the scale workflow deploys it too).
 */
import { logger } from '#runtime/powertools.ts';
import { clusterName, runtimeConfig } from '#runtime/config.ts';
import { transitionalTasksAlarm } from '#domain/alarms.ts';
import { previousHealthCheckFor, renderPlan, targetGroupHealthCheck } from '#domain/resource-plan.ts';
import { autoscalingPlan, needsNewRevision, type ScalePlan } from '#domain/scale-plan.ts';
import { forNextPass, type TaskPayload, type WorkflowState } from '#domain/workflow-state.ts';
import { appendEvents } from '#adapters/event-log.ts';
import { activeTaskDefinition, describeService, targetGroupOf } from '#adapters/fargate-resources.ts';
import { findListenerRule } from '#adapters/scaling-resources.ts';
import { taskHandler } from '#lambda/task-handler.ts';

function missing(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** The family's ACTIVE revision; a throttled lookup just means "register" (that step retries for minutes). */
async function registeredTaskDefinition(family: string, image: string): Promise<string | undefined> {
  try {
    return await activeTaskDefinition(family, image);
  } catch (error) {
    if ((error as Error).name !== 'ThrottlingException') throw error;
    return undefined;
  }
}

async function handle(payload: TaskPayload): Promise<WorkflowState> {
  const { state } = payload;
  const config = runtimeConfig();
  const plan = renderPlan(state.name, state.spec, config, state.operationId, state.specVersion);

  const [service, targetGroup, rule] = await Promise.all([
    describeService(config.clusterArn, state.name),
    targetGroupOf(state.name, config),
    findListenerRule(config.listenerArn, plan.hostHeaders[0]!),
  ]);
  const targetGroupArn = targetGroup?.TargetGroupArn;
  if (!service) throw missing('ServiceNotFound', `the ECS service "${state.name}" does not exist: a heal or a PUT re-creates it`);
  if (!targetGroupArn) throw missing('TargetGroupNotFound', `the target group "${state.name}" does not exist: a heal or a PUT re-creates it`);
  const deploy = needsNewRevision(plan, service.taskDefinitionArn);
  // the spec's (shared, content-addressed) family may be registered already: then no RegisterTaskDefinition
  const registered = deploy ? await registeredTaskDefinition(plan.taskDefinition.Family, plan.image) : undefined;

  const desiredCount = state.spec.desiredCount;
  const scaling: ScalePlan = {
    desiredCount,
    fromCount: service.desiredCount,
    sleeping: desiredCount === 0,
    resourceId: `service/${clusterName(config.clusterArn)}/${state.name}`,
    deploy,
    register: deploy && !registered,
    ...(rule ? { ruleArn: rule.ruleArn, ruleAtService: rule.targetGroupArns.length === 1 && rule.targetGroupArns[0] === targetGroupArn } : { ruleAtService: false }),
    ...(state.spec.autoscaling && desiredCount > 0 ? { autoscaling: autoscalingPlan(state.name, state.spec.autoscaling) } : {}),
    tasksAlarm: transitionalTasksAlarm(state.name, state.spec, service.desiredCount, config),
  };

  const what = scaling.sleeping
    ? `going to sleep: ${service.desiredCount} -> 0 tasks, requests to its URL wake it`
    : service.desiredCount === 0
      ? `waking up: 0 -> ${desiredCount} task${desiredCount === 1 ? '' : 's'}`
      : `scaling ${service.desiredCount} -> ${desiredCount} task${desiredCount === 1 ? '' : 's'}`;
  await appendEvents(state.name, [
    {
      at: new Date().toISOString(),
      type: 'scaling',
      message: `${what}${deploy ? `, deploying ${plan.image}` : ''}${rule ? '' : ' (no listener rule found: the URL is not routed until a heal re-creates it)'}`,
      operationId: state.operationId,
      actor: state.actor,
      details: { from: service.desiredCount, to: desiredCount, deploy, specVersion: state.specVersion, autoscaling: scaling.autoscaling ?? null },
    },
  ]);
  logger.info('planned scale', { from: service.desiredCount, to: desiredCount, deploy, rule: Boolean(rule) });
  return {
    ...forNextPass(state),
    plan,
    // a deployment (rolled back by the circuit breaker) or only more or fewer tasks (fail fast when they cannot start)
    phase: deploy ? 'update' : 'scale',
    targetGroup: { arn: targetGroupArn },
    // the health check ApplyHealthCheck is about to replace: a deployment rolled back puts it back (RestoreHealthCheck)
    ...previousHealthCheckFor(targetGroupHealthCheck(targetGroup), plan),
    // the revision to run: the service's own, the spec's registered one, or (RegisterTaskDefinition) a new one
    taskDefinition: { arn: registered ?? service.taskDefinitionArn ?? '' },
    scaling,
  };
}

export const handler = taskHandler(handle);
