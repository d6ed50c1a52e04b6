/**
 * Sidecars in the simulated tasks (issue 17, infra/local/simulator/sidecars.ts): the task
 * definition's other containers run in the task, show in DescribeTasks, the task events,
 * `GET /_local/resources` and the page, write their own awslogs stream; a `fail-start` sidecar
 * stops the task when it is essential and only itself when it is not. RegisterTaskDefinition
 * refuses what ECS refuses about containers together.
 */
import { DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyStoppedTask } from '../../../functions/domain/task-failure.ts';
import { judgeHookRun } from '../../../functions/domain/hook-runs.ts';
import { createEnvironment, createFixture, eventNames, rejection, type Fixture } from './sim-fixture.ts';

let f: Fixture;
afterEach(() => f?.sim.stop());

const GROUP = '/fledge/environments';
const logging = { logDriver: 'awslogs' as const, options: { 'awslogs-group': GROUP, 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'fledge' } };

/** The definition Fledge renders: `app` first, depending on its sidecars' start, each sidecar reserving 128 MiB. */
async function registerWithSidecars(family: string, sidecars: { name: string; image: string; essential?: boolean; port?: number }[], memory = '512') {
  const result = await f.ecs.send(new RegisterTaskDefinitionCommand({
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory,
    executionRoleArn: `arn:aws:iam::${f.sim.config.accountId}:role/exec`,
    containerDefinitions: [
      { name: 'app', image: 'nginx:1.27', essential: true, portMappings: [{ containerPort: 8080 }], logConfiguration: logging, dependsOn: sidecars.map((s) => ({ containerName: s.name, condition: 'START' as const })) },
      ...sidecars.map((s) => ({ name: s.name, image: s.image, essential: s.essential ?? true, memoryReservation: 128, logConfiguration: logging, portMappings: s.port ? [{ containerPort: s.port }] : [] })),
    ],
  }));
  return result.taskDefinition.taskDefinitionArn as string;
}

/** An environment whose service runs the definition with these sidecars. */
async function environmentWith(name: string, sidecars: Parameters<typeof registerWithSidecars>[1]) {
  await createEnvironment(f, name, 'nginx:1.27', { desiredCount: 0 });
  const taskDefinition = await registerWithSidecars(`fledge-td-${name}`, sidecars);
  await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: name, taskDefinition, desiredCount: 1 }));
}

async function tasksOf(name: string, desiredStatus: 'RUNNING' | 'STOPPED') {
  const list = await f.ecs.send(new ListTasksCommand({ cluster: f.sim.clusterArn, serviceName: name, desiredStatus }));
  if (list.taskArns.length === 0) return [];
  const described = await f.ecs.send(new DescribeTasksCommand({ cluster: f.sim.clusterArn, tasks: list.taskArns }));
  return described.tasks as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const steady = (name: string) => f.clock.advanceUntil(() => Boolean(f.sim.internals.ecs.services.get(name)?.steady), 20_000, 100);

describe('sidecars in simulated tasks', () => {
  it('runs them in the task: DescribeTasks, the task events, /_local/resources, the page and their own log streams', async () => {
    f = createFixture();
    await environmentWith('pg', [{ name: 'db', image: 'postgres:16', port: 5432 }, { name: 'cache', image: 'redis:7', essential: false }]);
    expect(await steady('pg')).toBe(true);
    const [task] = await tasksOf('pg', 'RUNNING');
    expect(task!.containers.map((c: { name: string; lastStatus: string }) => [c.name, c.lastStatus])).toEqual([['app', 'RUNNING'], ['db', 'RUNNING'], ['cache', 'RUNNING']]);
    const running = f.events.filter((e) => e['detail-type'] === 'ECS Task State Change' && e.detail.lastStatus === 'RUNNING').at(-1)!;
    expect((running.detail.containers as { name: string }[]).map((c) => c.name)).toEqual(['app', 'db', 'cache']);
    const resources = f.sim.resources().services.find((s) => s.name === 'pg')!;
    expect(resources.tasks[0]!.sidecars).toEqual([
      { name: 'db', image: 'postgres:16', essential: true, lastStatus: 'RUNNING' },
      { name: 'cache', image: 'redis:7', essential: false, lastStatus: 'RUNNING' },
    ]);
    expect(f.sim.servePage('pg.localhost').task?.sidecars?.map((s) => s.name)).toEqual(['db', 'cache']);
    const id = String(task!.taskArn).split('/').at(-1);
    const lines = await f.sim.client('logs').send(new FilterLogEventsCommand({ logGroupName: GROUP, logStreamNames: [`fledge/db/${id}`] }));
    expect(lines.events.map((e: { message: string }) => e.message)).toEqual(['starting postgres:16 (simulated sidecar db)', 'ready on localhost:5432']);
  });

  it('an essential sidecar that exits at start stops the task (EssentialContainerExited), naming it, and fails the deployment', async () => {
    f = createFixture();
    await environmentWith('pg-bad', [{ name: 'db', image: 'postgres:fail-start' }]);
    expect(await f.clock.advanceUntil(() => eventNames(f.events).includes('SERVICE_DEPLOYMENT_FAILED'), 30_000, 100)).toBe(true);
    const [stopped] = await tasksOf('pg-bad', 'STOPPED');
    expect(stopped).toMatchObject({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
    expect(stopped!.containers).toEqual([
      expect.objectContaining({ name: 'app', lastStatus: 'STOPPED', exitCode: 0 }),
      expect.objectContaining({ name: 'db', lastStatus: 'STOPPED', exitCode: 1 }),
    ]);
    expect(classifyStoppedTask(stopped!)).toEqual({ code: 'TASK_EXITED', message: 'the sidecar db exited with exit code 1' });
  });

  it('a non-essential sidecar that exits at start stops alone: the app stays up and serves', async () => {
    f = createFixture();
    await environmentWith('mocked', [{ name: 'mock', image: 'wiremock:fail-start', essential: false }]);
    expect(await steady('mocked')).toBe(true);
    await f.clock.advance(5_000);
    const [task] = await tasksOf('mocked', 'RUNNING');
    expect(task!.lastStatus).toBe('RUNNING');
    expect(task!.containers).toEqual([
      expect.objectContaining({ name: 'app', lastStatus: 'RUNNING' }),
      expect.objectContaining({ name: 'mock', lastStatus: 'STOPPED', exitCode: 1 }),
    ]);
    expect(await tasksOf('mocked', 'STOPPED')).toEqual([]);
    const page = f.sim.servePage('mocked.localhost');
    expect(page.outcome).toBe('task');
    expect(page.task?.sidecars).toEqual([{ name: 'mock', image: 'wiremock:fail-start', essential: false, lastStatus: 'STOPPED', exitCode: 1 }]);
  });

  it('a task that stops takes its running sidecars down with SIGTERM: they exit 143; the failure names the sidecar that crashed, not one the stop killed', async () => {
    f = createFixture();
    await environmentWith('pg-two', [{ name: 'cache', image: 'redis:7' }, { name: 'db', image: 'postgres:fail-start' }]);
    expect(await f.clock.advanceUntil(() => eventNames(f.events).includes('SERVICE_DEPLOYMENT_FAILED'), 30_000, 100)).toBe(true);
    const [stopped] = await tasksOf('pg-two', 'STOPPED');
    expect(stopped!.containers).toEqual([
      expect.objectContaining({ name: 'app', exitCode: 0 }),
      expect.objectContaining({ name: 'cache', lastStatus: 'STOPPED', exitCode: 143 }),
      expect.objectContaining({ name: 'db', lastStatus: 'STOPPED', exitCode: 1 }),
    ]);
    expect(classifyStoppedTask(stopped!)).toEqual({ code: 'TASK_EXITED', message: 'the sidecar db exited with exit code 1' });
  });

  it('a hook task whose command exits 0: its sidecars exit 143 as ECS stops them (so .sync fails the state), and the hook is judged a success', async () => {
    f = createFixture();
    const taskDefinition = await registerWithSidecars('fledge-td-hooked', [{ name: 'db', image: 'postgres:16' }]);
    const { tasks } = await f.ecs.send(new RunTaskCommand({
      cluster: f.sim.clusterArn, taskDefinition, launchType: 'FARGATE', startedBy: 'fledge-hook', group: 'hook:hooked',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-1'] } },
      overrides: { containerOverrides: [{ name: 'app', command: ['./seed.sh'] }] },
    }));
    await f.clock.advance(10_000);
    const [task] = (await f.ecs.send(new DescribeTasksCommand({ cluster: f.sim.clusterArn, tasks: [tasks[0].taskArn] }))).tasks;
    expect(task).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });
    expect(task.containers.map((c: { name: string; exitCode: number }) => [c.name, c.exitCode])).toEqual([['app', 0], ['db', 143]]);
    const described = { TaskArn: task.taskArn, StopCode: task.stopCode, StartedAt: String(task.startedAt), StoppedAt: String(task.stoppedAt), Containers: task.containers.map((c: { name: string; exitCode: number }) => ({ Name: c.name, ExitCode: c.exitCode })) };
    const plan = { command: ['./seed.sh'], timeoutSeconds: 600, stateTimeoutSeconds: 900 };
    expect(judgeHookRun('afterCreate', plan, { Error: 'States.TaskFailed', Cause: JSON.stringify(described) }, '/logs').failure).toBeUndefined();
  });

  it('refuses reservations past the task\'s memory, duplicate names and a dependency on a missing container', async () => {
    f = createFixture();
    // ECS counts reservations only (the app reserves none): 4 x 128 MiB fit 512 MiB, 5 do not
    const four = [1, 2, 3, 4].map((i) => ({ name: `s${i}`, image: 'redis:7' }));
    expect((await rejection(registerWithSidecars('td-big', [...four, { name: 's5', image: 'redis:7' }], '512'))).name).toBe('ClientException');
    expect(await registerWithSidecars('td-fits', four, '512')).toMatch(/td-fits:1$/);
    expect((await rejection(registerWithSidecars('td-dup', [{ name: 'app', image: 'redis:7' }]))).message).toMatch(/unique/);
    const missing = await rejection(f.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'td-dep', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: 'nginx', dependsOn: [{ containerName: 'db', condition: 'START' }] }],
    })));
    expect(missing.message).toMatch(/depends on container db/);
  });
});
