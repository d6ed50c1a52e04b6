/**
 * The simulator's task definition lifecycle as AWS documents it (Amazon ECS API Reference,
 * DeregisterTaskDefinition and DeleteTaskDefinitions; "Request throttling for the Amazon ECS API").
 */
import { describe, expect, it } from 'vitest';
import {
  CreateServiceCommand, DeleteServiceCommand, DeleteTaskDefinitionsCommand, DeregisterTaskDefinitionCommand, DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { createEnvironment, createFixture, describeService, registerTaskDefinition, rejection } from './sim-fixture.ts';

const network = { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' as const } };

describe('an INACTIVE task definition', () => {
  it('keeps its service running and scaling, but no new service and no update may use it (ClientException)', async () => {
    const f = createFixture();
    const { taskDefinitionArn } = await createEnvironment(f, 'web');
    await f.clock.advance(5_000);
    await f.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));

    // the service runs on and scales
    await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'web', desiredCount: 2 }));
    await f.clock.advance(10_000);
    expect(await describeService(f, 'web')).toMatchObject({ runningCount: 2, taskDefinition: taskDefinitionArn });

    const created = await rejection(f.ecs.send(new CreateServiceCommand({
      cluster: f.sim.clusterArn, serviceName: 'other', taskDefinition: taskDefinitionArn, desiredCount: 1, launchType: 'FARGATE', networkConfiguration: network,
    })));
    expect(created).toMatchObject({ name: 'ClientException', message: 'TaskDefinition is inactive' });
    const other = await registerTaskDefinition(f, 'web', 'nginx:1.28');
    await f.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: other }));
    const updated = await rejection(f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'web', taskDefinition: other })));
    expect(updated).toMatchObject({ name: 'ClientException', message: 'TaskDefinition is inactive' });
  });
});

describe('DeleteTaskDefinitions', () => {
  it('takes 1 to 10 revisions, refuses ACTIVE ones per revision, and deletes INACTIVE ones (DELETE_IN_PROGRESS first)', async () => {
    const f = createFixture();
    const arns = [];
    for (let i = 0; i < 11; i++) arns.push(await registerTaskDefinition(f, `gc-${i}`, 'nginx:1.27'));
    expect(await rejection(f.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: arns })))).toMatchObject({ name: 'InvalidParameterException' });
    expect(await rejection(f.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [] })))).toMatchObject({ name: 'InvalidParameterException' });

    for (const arn of arns.slice(0, 5)) await f.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    const result = await f.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: arns.slice(0, 6) }));
    expect(result.taskDefinitions.map((t: { status: string }) => t.status)).toEqual(Array(5).fill('DELETE_IN_PROGRESS'));
    expect(result.failures).toEqual([{ arn: arns[5], reason: expect.stringMatching(/still in ACTIVE status/) }]);

    await f.clock.advance(5_000);
    const inactive = await f.ecs.send(new ListTaskDefinitionsCommand({ status: 'INACTIVE' }));
    expect(inactive.taskDefinitionArns).toEqual([]);
    expect(await rejection(f.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arns[0] })))).toMatchObject({ name: 'ClientException' });
  });

  it('leaves a revision DELETE_IN_PROGRESS while a service references it (even at 0 tasks), and removes it once the service is gone', async () => {
    const f = createFixture();
    const { taskDefinitionArn } = await createEnvironment(f, 'sleepy', 'nginx:1.27', { desiredCount: 0 });
    await f.clock.advance(5_000);
    await f.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
    await f.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [taskDefinitionArn] }));
    await f.clock.advance(30_000);
    expect(f.sim.internals.ecs.taskDefinitions.get(taskDefinitionArn)?.status).toBe('DELETE_IN_PROGRESS');
    // the service still scales on it
    await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'sleepy', desiredCount: 1 }));
    await f.clock.advance(10_000);
    expect((await describeService(f, 'sleepy')).runningCount).toBe(1);

    await f.ecs.send(new DeleteServiceCommand({ cluster: f.sim.clusterArn, service: 'sleepy', force: true }));
    await f.clock.advance(60_000);
    expect(f.sim.internals.ecs.taskDefinitions.has(taskDefinitionArn)).toBe(false);
  });
});

describe('rate limits of the task definition mutations', () => {
  it('DeregisterTaskDefinition and DeleteTaskDefinitions each have a bucket of 20 refilled 1 a second', async () => {
    const f = createFixture({ rateLimits: undefined });
    const arns = [];
    for (let i = 0; i < 25; i++) {
      arns.push(await registerTaskDefinition(f, `rl-${i}`, 'nginx:1.27'));
      await f.clock.advance(1_000); // RegisterTaskDefinition's own bucket
    }
    let deregistered = 0;
    for (const arn of arns) {
      const error = await f.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn })).then(() => undefined, (e: Error) => e);
      if (error) {
        expect(error).toMatchObject({ name: 'ThrottlingException' });
        break;
      }
      deregistered += 1;
    }
    expect(deregistered).toBe(20);
    await f.clock.advance(1_000);
    await f.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arns[20] }));

    let deletes = 0;
    for (let i = 0; i < 25; i++) {
      const error = await f.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [arns[i % 21]!] })).then(() => undefined, (e: Error) => e);
      if (error) {
        expect(error).toMatchObject({ name: 'ThrottlingException' });
        break;
      }
      deletes += 1;
    }
    expect(deletes).toBe(20);
  });
});

describe('RegisterTaskDefinition size', () => {
  it('refuses a task definition over 64 KiB as JSON (ClientException), and registers one just under it', async () => {
    const f = createFixture();
    const register = (valueSize: number) => f.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'big', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: 'nginx:1.27', environment: [{ name: 'A', value: 'x'.repeat(valueSize) }] }],
    }));
    const refused = await rejection(register(65_536));
    expect(refused).toMatchObject({ name: 'ClientException', message: expect.stringMatching(/^The task definition is \d+ bytes; the maximum size is 64 KiB\.$/) });
    await expect(register(65_000)).resolves.toMatchObject({ taskDefinition: { family: 'big', revision: 1 } });
  });
});
