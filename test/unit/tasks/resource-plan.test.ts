import { describe, expect, it } from 'vitest';
import { environmentSpecSchema } from '../../../functions/domain/environment-spec.ts';
import { DEREGISTRATION_DELAY_SECONDS, renderPlan, type PlanSettings } from '../../../functions/domain/resource-plan.ts';
import { checkAgainstShape, inputShape, serviceModel } from '../../support/service-models.ts';

const settings: PlanSettings = {
  clusterArn: 'arn:aws:ecs:eu-west-1:000000000000:cluster/fledge',
  subnetIds: ['subnet-a'],
  securityGroupIds: ['sg-1'],
  assignPublicIp: 'DISABLED',
  executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
  taskRoleArn: 'arn:aws:iam::000000000000:role/task',
  logGroup: '/fledge/environments',
  region: 'eu-west-1',
  baseDomain: 'preview.example.com',
};
const spec = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 }).parse({
  image: 'ghcr.io/acme/web:1.0', port: 3000, cpu: 512, memory: 1024, desiredCount: 2,
  environment: { Z_LAST: 'z', A_FIRST: 'a' },
  secrets: { TOKEN: 'arn:aws:ssm:eu-west-1:000000000000:parameter/token' },
  healthCheck: { path: '/healthz', intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
});

describe('rendering the resource plan', () => {
  const plan = renderPlan('pr-7', spec, settings, 'op-1', 4);

  it('renders the environment map as Name/Value pairs and secrets as Name/ValueFrom, sorted', () => {
    const container = plan.taskDefinition.ContainerDefinitions[0]!;
    expect(container.Environment).toEqual([{ Name: 'A_FIRST', Value: 'a' }, { Name: 'Z_LAST', Value: 'z' }]);
    expect(container.Secrets).toEqual([{ Name: 'TOKEN', ValueFrom: 'arn:aws:ssm:eu-west-1:000000000000:parameter/token' }]);
    expect(container.PortMappings).toEqual([{ ContainerPort: 3000, Protocol: 'tcp', Name: 'http' }]);
    expect(container.LogConfiguration.Options).toEqual({ 'awslogs-group': '/fledge/environments', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'pr-7' });
  });

  it('takes the health check, host, size and count from the spec', () => {
    expect(plan.hostHeaders).toEqual(['pr-7.preview.example.com']);
    expect(plan.taskDefinition).toMatchObject({ Family: 'fledge-pr-7', Cpu: '512', Memory: '1024' });
    expect(plan.targetGroup).toEqual({
      Port: 3000, HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: 15, HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 3, UnhealthyThresholdCount: 2,
    });
    expect(plan.service.DesiredCount).toBe(2);
    expect(DEREGISTRATION_DELAY_SECONDS).toBeLessThanOrEqual(10);
  });

  it('gives CreateService a deterministic idempotency token per operation and spec version', () => {
    expect(renderPlan('pr-7', spec, settings, 'op-1', 4).service.ClientToken).toBe(plan.service.ClientToken);
    expect(renderPlan('pr-7', spec, settings, 'op-1', 5).service.ClientToken).not.toBe(plan.service.ClientToken);
    expect(plan.service.ClientToken.length).toBeLessThanOrEqual(36);
  });

  it('renders values the ECS API accepts (checked against the ECS service model)', () => {
    const ecs = serviceModel('ecs');
    const register = { ...plan.taskDefinition, NetworkMode: 'awsvpc', RequiresCompatibilities: ['FARGATE'] };
    expect(checkAgainstShape(ecs, inputShape('ecs', 'RegisterTaskDefinition'), register, 'RegisterTaskDefinition')).toEqual([]);
    const create = {
      ServiceName: 'pr-7', NetworkConfiguration: plan.service.NetworkConfiguration,
      DesiredCount: plan.service.DesiredCount, ClientToken: plan.service.ClientToken,
      HealthCheckGracePeriodSeconds: plan.service.HealthCheckGracePeriodSeconds,
    };
    expect(checkAgainstShape(ecs, inputShape('ecs', 'CreateService'), create, 'CreateService')).toEqual([]);
  });
});
