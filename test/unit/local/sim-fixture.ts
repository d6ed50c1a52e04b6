/** Builds a simulator on a manual clock and the resources one Fledge environment has. */
import { RegisterTaskDefinitionCommand, CreateServiceCommand, UpdateServiceCommand, DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { CreateRuleCommand, CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createSimulator, ManualClock, type SimEvent, type Simulator, type SimulatorOptions } from '../../../infra/local/simulator/index.ts';

export interface Fixture {
  sim: Simulator;
  clock: ManualClock;
  events: SimEvent[];
  ecs: ReturnType<Simulator['client']>;
  elbv2: ReturnType<Simulator['client']>;
}

export function createFixture(options: SimulatorOptions = {}): Fixture {
  const clock = new ManualClock();
  const sim = createSimulator({ clock, rateLimits: false, taskStartMs: 1000, healthCheckIntervalMs: 200, alarmPeriodMs: 500, ...options });
  const events: SimEvent[] = [];
  sim.onEvent((event) => {
    events.push(event);
  });
  return { sim, clock, events, ecs: sim.client('ecs'), elbv2: sim.client('elasticloadbalancingv2') };
}

/** `logGroup`: the container logs there with the awslogs driver, stream prefix `fledge` (as Fledge's definitions do). */
export async function registerTaskDefinition(f: Fixture, name: string, image: string, logGroup?: string): Promise<string> {
  const logging = logGroup
    ? {
        logConfiguration: { logDriver: 'awslogs' as const, options: { 'awslogs-group': logGroup, 'awslogs-region': f.sim.config.region, 'awslogs-stream-prefix': 'fledge' } },
      }
    : {};
  const result = await f.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `fledge-${name}`,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      ...(logGroup ? { executionRoleArn: `arn:aws:iam::${f.sim.config.accountId}:role/exec` } : {}),
      containerDefinitions: [{ name: 'app', image, essential: true, portMappings: [{ containerPort: 8080 }], ...logging }],
      tags: [{ key: 'fledge:environment', value: name }],
    }),
  );
  return result.taskDefinition.taskDefinitionArn as string;
}

/** Task definition + target group + listener rule + service, as the create workflow builds them. */
export async function createEnvironment(
  f: Fixture,
  name: string,
  image = 'nginx:1.27',
  { desiredCount = 1, priority = 1, circuitBreaker = true, logGroup = undefined as string | undefined, listenerArn = f.sim.listenerArn } = {},
): Promise<{ serviceArn: string; targetGroupArn: string; ruleArn: string; taskDefinitionArn: string }> {
  const taskDefinitionArn = await registerTaskDefinition(f, name, image, logGroup);
  const tg = await f.elbv2.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: f.sim.config.vpcId,
      TargetType: 'ip',
      HealthCheckPath: '/',
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Tags: [{ Key: 'fledge:environment', Value: name }],
    }),
  );
  const targetGroupArn = tg.TargetGroups[0].TargetGroupArn as string;
  const rule = await f.elbv2.send(
    new CreateRuleCommand({
      ListenerArn: listenerArn,
      Priority: priority,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`${name}.localhost`] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
      Tags: [{ Key: 'fledge:environment', Value: name }],
    }),
  );
  const service = await f.ecs.send(
    new CreateServiceCommand({
      cluster: f.sim.clusterArn,
      serviceName: name,
      taskDefinition: taskDefinitionArn,
      desiredCount,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
      loadBalancers: [{ targetGroupArn, containerName: 'app', containerPort: 8080 }],
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: circuitBreaker, rollback: true }, maximumPercent: 200, minimumHealthyPercent: 100 },
      tags: [{ key: 'fledge:environment', value: name }],
      propagateTags: 'SERVICE',
    }),
  );
  return { serviceArn: service.service.serviceArn, targetGroupArn, ruleArn: rule.Rules[0].RuleArn, taskDefinitionArn };
}

export async function describeService(f: Fixture, name: string) {
  const result = await f.ecs.send(new DescribeServicesCommand({ cluster: f.sim.clusterArn, services: [name] }));
  return result.services[0];
}

export async function updateImage(f: Fixture, name: string, image: string): Promise<string> {
  const taskDefinitionArn = await registerTaskDefinition(f, name, image);
  await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: name, taskDefinition: taskDefinitionArn }));
  return taskDefinitionArn;
}

export const eventNames = (events: SimEvent[]) =>
  events.filter((e) => e['detail-type'] !== 'ECS Task State Change').map((e) => String(e.detail.eventName ?? e.detail.alarmName));

/** The error `promise` rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}
