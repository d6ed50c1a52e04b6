/**
 * The plan of a deployment to an existing service (update, and the converge passes of create,
 * scale and heal): `renderPlan`, with the desired count UpdateService sends kept where
 * autoscaling put it.
 *
 * With autoscaling on, Application Auto Scaling owns the desired count ("Automatically scale
 * your Amazon ECS service", Amazon ECS Developer Guide: service auto scaling changes the
 * desired count you set as long as the service has active scaling policies; and
 * "Troubleshooting service auto scaling in Amazon ECS": scale-in is turned off while a
 * deployment is in progress, scale-out goes on). Sending the spec's count on every deploy
 * would drop an environment autoscaled to 5 tasks back to 1 on every push, so the count sent
 * is the service's current one moved into the spec's min..max (`expectedDesiredCount`, the
 * heal's rule too). Without autoscaling the spec's count is sent, as before.
 */
import type { EnvironmentSpec } from '#domain/environment-spec.ts';
import { expectedDesiredCount } from '#domain/healing.ts';
import { renderPlan, type PlanSettings, type ResourcePlan } from '#domain/resource-plan.ts';
import { describeService } from './fargate-resources.ts';

export async function deployPlan(
  name: string,
  spec: EnvironmentSpec,
  settings: PlanSettings,
  operationId: string,
  specVersion: number,
): Promise<ResourcePlan> {
  const plan = renderPlan(name, spec, settings, operationId, specVersion);
  if (spec.autoscaling && spec.desiredCount > 0) {
    const service = await describeService(settings.clusterArn, name);
    plan.service.DesiredCount = expectedDesiredCount(spec, service?.desiredCount);
  }
  return plan;
}
