import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { environmentSpecSchema } from '../../../functions/domain/environment-spec.ts';
import {
  DEREGISTRATION_DELAY_SECONDS,
  LOG_STREAM_PREFIX,
  renderPlan,
  TASK_DEFINITION_CONSTANTS,
  TASK_DEFINITION_HASH_TAG,
  type PlanSettings,
} from '../../../functions/domain/resource-plan.ts';
import { targetGroupName } from '../../../functions/domain/resource-names.ts';
import { checkAgainstShape, inputShape, serviceModel } from '../../support/service-models.ts';

const settings: PlanSettings = {
  installationId: 'fled1a2b',
  clusterArn: 'arn:aws:ecs:eu-west-1:000000000000:cluster/fledge',
  subnetIds: ['subnet-a'],
  securityGroupIds: ['sg-1'],
  assignPublicIp: 'DISABLED',
  executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
  taskRoleArn: 'arn:aws:iam::000000000000:role/task',
  logGroup: '/fledge/environments',
  region: 'eu-west-1',
  baseDomain: 'preview.example.com',
  loadBalancerDimension: 'app/fledge-s1/0123456789abcdef',
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
    expect(container.LogConfiguration.Options).toEqual({ 'awslogs-group': '/fledge/environments', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': LOG_STREAM_PREFIX });
  });

  it('takes the health check, host, size and count from the spec', () => {
    expect(plan.hostHeaders).toEqual(['pr-7.preview.example.com']);
    expect(plan.taskDefinition).toMatchObject({ Family: `fledge-td-${plan.taskDefinitionHash}`, Cpu: '512', Memory: '1024' });
    expect(plan.targetGroup).toEqual({
      Name: targetGroupName('fled1a2b', 'pr-7'),
      Port: 3000, HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: 15, HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 3, UnhealthyThresholdCount: 2,
    });
    expect(plan.service.DesiredCount).toBe(2);
    expect(DEREGISTRATION_DELAY_SECONDS).toBeLessThanOrEqual(10);
  });

  it('names the task definition family after a hash of its content, so environments with the same definition share it', () => {
    expect(plan.taskDefinitionHash).toMatch(/^[0-9a-f]{32}$/);
    // longer than any environment name: never one of the per-environment fledge-<name> families of earlier versions
    expect(plan.taskDefinition.Family.length).toBeGreaterThan('fledge-'.length + 32);
    // another environment, operation and spec version: the same definition
    const other = renderPlan('feature-x', spec, settings, 'op-9', 1);
    expect(other.taskDefinition).toEqual(plan.taskDefinition);
    expect(JSON.stringify(plan.taskDefinition)).not.toContain('pr-7');
    // the labels, desired count, health check path and ttl are not part of it
    const sameDefinition = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 }).parse({
      image: 'ghcr.io/acme/web:1.0', port: 3000, cpu: 512, memory: 1024, desiredCount: 5, ttl: '7d', labels: { branch: 'other' },
      environment: { A_FIRST: 'a', Z_LAST: 'z' }, secrets: { TOKEN: 'arn:aws:ssm:eu-west-1:000000000000:parameter/token' },
    });
    expect(renderPlan('pr-8', sameDefinition, settings, 'op-2', 1).taskDefinition.Family).toBe(plan.taskDefinition.Family);
    // except labels.repository of a spec with secrets: it picks the execution role (functions/domain/execution-roles.ts)
    const ownRole = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 }).parse({ ...sameDefinition, labels: { repository: 'acme/other' } });
    expect(renderPlan('pr-8', ownRole, settings, 'op-2', 1).taskDefinition.Family).not.toBe(plan.taskDefinition.Family);
  });

  it('shares a family within one repository only: another repository with the same definition gets its own (revisions would tell it what the other runs)', () => {
    const schema = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 });
    const of = (repository: string, branch: string) =>
      renderPlan(`env-${branch}`, schema.parse({ image: 'nginx:1.27', environment: { DB_PASSWORD: 'b-pass-42' }, labels: { repository, branch } }), settings, 'op-1', 1);
    const [a1, a2, b] = [of('acme/a', 'one'), of('acme/a', 'two'), of('acme/b', 'one')];
    expect(a2.taskDefinition.Family).toBe(a1.taskDefinition.Family);
    expect(b.taskDefinition.Family).not.toBe(a1.taskDefinition.Family);
    // what ECS receives is the same apart from the family name
    const { Family: _a, ...contentA } = a1.taskDefinition;
    const { Family: _b, ...contentB } = b.taskDefinition;
    expect(contentB).toEqual(contentA);
  });

  it('gives every change of the rendered definition its own family', () => {
    const variants = [
      { image: 'ghcr.io/acme/web:1.1' }, { port: 3001 }, { cpu: 1024, memory: 2048 }, { environment: { A_FIRST: 'b', Z_LAST: 'z' } },
      { secrets: { TOKEN: 'arn:aws:ssm:eu-west-1:000000000000:parameter/other' } },
    ];
    const families = new Set([plan.taskDefinition.Family]);
    for (const change of variants) {
      const changed = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 }).parse({ ...spec, ...change });
      families.add(renderPlan('pr-7', changed, settings, 'op-1', 4).taskDefinition.Family);
    }
    for (const changed of [{ ...settings, taskRoleArn: 'arn:aws:iam::000000000000:role/other' }, { ...settings, logGroup: '/other' }]) {
      families.add(renderPlan('pr-7', spec, changed, 'op-1', 4).taskDefinition.Family);
    }
    expect(families.size).toBe(variants.length + 3);
  });

  it('every RegisterTaskDefinition state writes the constant parameters the hash covers; create and update tag revisions by hash, not by environment', () => {
    const dir = join(import.meta.dirname, '..', '..', '..', 'statemachines');
    const registers: [string, string, Record<string, unknown>][] = [];
    const visit = (file: string, node: unknown, name = ''): void => {
      if (Array.isArray(node)) return node.forEach((n) => visit(file, n));
      if (!node || typeof node !== 'object') return;
      const state = node as Record<string, unknown>;
      if (state.Resource === 'arn:aws:states:::aws-sdk:ecs:registerTaskDefinition') registers.push([file, name, state.Parameters as Record<string, unknown>]);
      for (const [key, value] of Object.entries(state)) visit(file, value, key);
    };
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.asl.json'))) visit(file, JSON.parse(readFileSync(join(dir, file), 'utf8')));
    expect(registers.length).toBeGreaterThanOrEqual(3);
    for (const [file, name, parameters] of registers) {
      expect({ NetworkMode: parameters.NetworkMode, RequiresCompatibilities: parameters.RequiresCompatibilities, RuntimePlatform: parameters.RuntimePlatform }, `${file} ${name}`)
        .toEqual(TASK_DEFINITION_CONSTANTS);
      if (file !== 'create.asl.json' && file !== 'update.asl.json') continue;
      expect(parameters.Tags, `${file} ${name}`).toEqual([
        { Key: 'fledge:managed-by', Value: 'fledge' },
        { Key: TASK_DEFINITION_HASH_TAG, 'Value.$': '$.plan.taskDefinitionHash' },
      ]);
    }
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
