/**
 * The simulator's RunTask (a hook's one-off task): what it refuses as ECS does, and what the app
 * container's command override makes the simulated process do (infra/local/README.md "Hooks").
 */
import { DeregisterTaskDefinitionCommand, DescribeTasksCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { createFixture, registerTaskDefinition, type Fixture } from './sim-fixture.ts';

const network = { awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-1'] } };

async function run(f: Fixture, taskDefinition: string, command: string[] | undefined, more: Record<string, unknown> = {}) {
  const { tasks } = await f.ecs.send(new RunTaskCommand({
    cluster: f.sim.clusterArn, taskDefinition, launchType: 'FARGATE', networkConfiguration: network, startedBy: 'fledge-hook', group: 'hook:pr-1',
    ...(command ? { overrides: { containerOverrides: [{ name: 'app', command }] } } : {}), ...more,
  }));
  return tasks[0].taskArn as string;
}

async function describe1(f: Fixture, taskArn: string) {
  return (await f.ecs.send(new DescribeTasksCommand({ cluster: f.sim.clusterArn, tasks: [taskArn] }))).tasks[0];
}

describe('RunTask in the simulator', () => {
  it('a command whose first word starts with fail exits 1; sleep N exits 0 after N s of its clock; anything else exits 0', async () => {
    const f = createFixture();
    const td = await registerTaskDefinition(f, 'pr-1', 'nginx:1.27', '/fledge/local/environments');
    const failing = await run(f, td, ['fail-seed', '--all']);
    const sleeping = await run(f, td, ['sleep', '30']);
    const plain = await run(f, td, ['./seed.sh']);
    await f.clock.advance(5_000);
    expect(await describe1(f, failing)).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', group: 'hook:pr-1', startedBy: 'fledge-hook', containers: [{ name: 'app', exitCode: 1 }] });
    expect(await describe1(f, plain)).toMatchObject({ lastStatus: 'STOPPED', containers: [{ exitCode: 0 }], overrides: { containerOverrides: [{ name: 'app', command: ['./seed.sh'] }] } });
    expect(await describe1(f, sleeping)).toMatchObject({ lastStatus: 'RUNNING' });
    await f.clock.advance(30_000);
    const slept = await describe1(f, sleeping);
    expect(slept).toMatchObject({ lastStatus: 'STOPPED', containers: [{ exitCode: 0 }] });
    // about 30 s between start and stop, on the simulator's clock
    expect((slept.stoppingAt as Date).getTime() - (slept.startedAt as Date).getTime()).toBe(30_000);
  });

  it('StopTask of a running hook: SIGTERM, exit 143, UserInitiated', async () => {
    const f = createFixture();
    const task = await run(f, await registerTaskDefinition(f, 'pr-2', 'nginx:1.27'), ['sleep', '600']);
    await f.clock.advance(2_000);
    await f.ecs.send(new StopTaskCommand({ cluster: f.sim.clusterArn, task, reason: 'timed out' }));
    await f.clock.advance(5_000);
    expect(await describe1(f, task)).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated', containers: [{ exitCode: 143 }] });
  });

  it('refuses as ECS does: an inactive revision, no network configuration, an override of a container the definition lacks', async () => {
    const f = createFixture();
    const td = await registerTaskDefinition(f, 'pr-3', 'nginx:1.27');
    await expect(run(f, td, ['x'], { networkConfiguration: undefined })).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(f.ecs.send(new RunTaskCommand({ cluster: f.sim.clusterArn, taskDefinition: td, networkConfiguration: network, overrides: { containerOverrides: [{ name: 'db', command: ['x'] }] } })))
      .rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('db') });
    await f.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: td }));
    await expect(run(f, td, ['x'])).rejects.toMatchObject({ name: 'InvalidParameterException', message: 'TaskDefinition is inactive' });
    await expect(run(f, 'fledge-nope:1', ['x'])).rejects.toMatchObject({ name: 'ClientException' });
  });
});
