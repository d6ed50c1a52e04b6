/**
 * The local runner's `arn:aws:states:::ecs:runTask.sync` against a stand-in ECS: what the state
 * outputs, how it fails (States.TaskFailed with the task as Cause, AmazonECS.Unknown on Failures,
 * ECS.<code> or ECS.AmazonECSException when RunTask is refused, and the hooks' Retry of them),
 * TimeoutSecondsPath read from the state's input, and the task stopped when the execution is
 * stopped (not when the state times out: AWS documents no such stop; RecordHookRun stops it).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkflowRunner, type WorkflowRunner } from '../../infra/local/workflow-runner.ts';
import { runTaskInvalidParameterRetry, runTaskRetry } from '../../statemachines/source/retry-policies.ts';

const DEFINITION = {
  StartAt: 'Run',
  States: {
    Run: {
      Type: 'Task',
      Resource: 'arn:aws:states:::ecs:runTask.sync',
      Parameters: { Cluster: 'c', 'TaskDefinition.$': '$.td', Overrides: { ContainerOverrides: [{ Name: 'app', 'Command.$': '$.command' }] } },
      TimeoutSecondsPath: '$.limits.seconds',
      ResultPath: '$.task',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
      End: true,
    },
    Failed: { Type: 'Pass', End: true },
  },
};

interface FakeTask { TaskArn: string; LastStatus: string; StartedAt?: Date; Containers: { Name: string; ExitCode?: number }[] }

let runner: WorkflowRunner | undefined;
afterEach(() => runner?.close());

/** ECS that stops the task `afterMs` after RunTask with the app's exit code; a sidecar too when given. */
function fakeEcs(options: { exitCode?: number; sidecarExit?: number; afterMs?: number; failures?: boolean; refuse?: boolean; refuseWith?: string; refusals?: number; throttledLooks?: number } = {}) {
  const calls: { action: string; params: Record<string, unknown> }[] = [];
  let task: FakeTask | undefined;
  const callAws = async (_service: string, action: string, params: Record<string, unknown>) => {
    calls.push({ action, params });
    if (action === 'RunTask') {
      if (options.refuse) throw Object.assign(new Error('Tasks provisioning capacity limit exceeded.'), { name: 'ThrottlingException' });
      const refused = calls.filter((c) => c.action === 'RunTask').length;
      if (options.refuseWith && refused <= (options.refusals ?? Infinity)) throw Object.assign(new Error(`refused (${options.refuseWith})`), { name: options.refuseWith });
      if (options.failures) return { Tasks: [], Failures: [{ Arn: 'x', Reason: 'RESOURCE:ENI' }] };
      task = { TaskArn: 'arn:aws:ecs:eu-west-1:000000000000:task/c/0123', LastStatus: 'PENDING', Containers: [{ Name: 'app' }] };
      setTimeout(() => {
        if (task!.LastStatus === 'STOPPED') return;
        task!.LastStatus = 'STOPPED';
        task!.StartedAt = new Date(Date.parse('2026-01-01T00:00:00Z'));
        task!.Containers = [{ Name: 'app', ExitCode: options.exitCode ?? 0 }, ...(options.sidecarExit === undefined ? [] : [{ Name: 'db', ExitCode: options.sidecarExit }])];
      }, options.afterMs ?? 20);
      return { Tasks: [{ ...task, ClusterArn: 'c' }], Failures: [] };
    }
    if (action === 'DescribeTasks') {
      if (calls.filter((c) => c.action === 'DescribeTasks').length <= (options.throttledLooks ?? 0)) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return { Tasks: [structuredClone(task)] };
    }
    if (action === 'StopTask') {
      task!.LastStatus = 'STOPPED';
      task!.Containers = [{ Name: 'app', ExitCode: 143 }];
      return {};
    }
    throw new Error(`unexpected ${action}`);
  };
  return { calls, callAws };
}

async function run(ecs: ReturnType<typeof fakeEcs>, input: Record<string, unknown>, definition: object = DEFINITION) {
  const dir = mkdtempSync(join(tmpdir(), 'fledge-sync-'));
  writeFileSync(join(dir, 'create.asl.json'), JSON.stringify(definition));
  runner = createWorkflowRunner({ definitionsDir: dir, substitutions: {}, callAws: ecs.callAws, invokeLambda: async () => null, syncPollMs: 5, retryIntervalMs: 0 });
  const started = await runner.startExecution('create', `x-${Math.random()}`, { td: 'fledge-td-1:1', command: ['seed'], limits: { seconds: 5 }, ...input });
  return { started, done: () => runner!.waitForExecution(started.executionArn) };
}

const output = (record: { output?: string }) => JSON.parse(record.output!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the local runner runs ecs:runTask.sync as Step Functions does', () => {
  it('outputs the stopped task (times as epoch ms) when every container exited 0; the state\'s input is RunTask\'s parameters', async () => {
    const ecs = fakeEcs();
    const record = await (await run(ecs, {})).done();
    expect(record.status).toBe('SUCCEEDED');
    expect(output(record).task).toMatchObject({ LastStatus: 'STOPPED', StartedAt: Date.parse('2026-01-01T00:00:00Z'), Containers: [{ Name: 'app', ExitCode: 0 }] });
    expect(ecs.calls[0]).toEqual({ action: 'RunTask', params: { Cluster: 'c', TaskDefinition: 'fledge-td-1:1', Overrides: { ContainerOverrides: [{ Name: 'app', Command: ['seed'] }] } } });
  });

  it('a throttled look at the task (Step Functions\' own watch) is not the state\'s failure: it looks again and outputs the stopped task', async () => {
    const ecs = fakeEcs({ throttledLooks: 3, afterMs: 30 });
    const record = await (await run(ecs, {})).done();
    expect(record.status).toBe('SUCCEEDED');
    expect(output(record).task).toMatchObject({ LastStatus: 'STOPPED', Containers: [{ Name: 'app', ExitCode: 0 }] });
    expect(ecs.calls.filter((c) => c.action === 'DescribeTasks').length).toBeGreaterThan(3);
  });

  it('a non-zero exit (a sidecar\'s too) is States.TaskFailed with the task description as the Cause', async () => {
    for (const exits of [{ exitCode: 1 }, { exitCode: 0, sidecarExit: 137 }]) {
      const record = await (await run(fakeEcs(exits), {})).done();
      const { error } = output(record);
      expect(error.Error).toBe('States.TaskFailed');
      expect(JSON.parse(error.Cause)).toMatchObject({ TaskArn: expect.stringContaining(':task/'), LastStatus: 'STOPPED' });
    }
  });

  it('RunTask Failures are AmazonECS.Unknown; a refused RunTask is ECS.AmazonECSException with ECS\'s code in the Cause', async () => {
    expect(output(await (await run(fakeEcs({ failures: true }), {})).done()).error.Error).toBe('AmazonECS.Unknown');
    const refused = output(await (await run(fakeEcs({ refuse: true }), {})).done()).error;
    expect(refused.Error).toBe('ECS.AmazonECSException');
    expect(refused.Cause).toContain('Error Code: ThrottlingException');
  });

  it('a refused RunTask is ECS.<code> for ECS\'s modeled errors, ECS.AmazonECSException for throttling, server faults and capacity', async () => {
    for (const [code, name] of [
      ['InvalidParameterException', 'ECS.InvalidParameterException'],
      ['ClientException', 'ECS.ClientException'],
      ['AccessDeniedException', 'ECS.AccessDeniedException'],
      ['ThrottlingException', 'ECS.AmazonECSException'],
      ['ServerException', 'ECS.AmazonECSException'],
      ['LimitExceededException', 'ECS.AmazonECSException'],
    ]) {
      const { error } = output(await (await run(fakeEcs({ refuseWith: code }), {})).done());
      expect(error.Error, code).toBe(name);
      expect(error.Cause, code).toContain(`Error Code: ${code}`);
    }
  });

  it('the hooks\' Retry: InvalidParameterException (also ECS\'s throttled VPC lookups) gets 3 more tries, then fails; a refusal that clears runs the task', async () => {
    const withRetry = { ...DEFINITION, States: { ...DEFINITION.States, Run: { ...DEFINITION.States.Run, Retry: [runTaskRetry, runTaskInvalidParameterRetry] } } };
    const failing = fakeEcs({ refuseWith: 'InvalidParameterException' });
    expect(output(await (await run(failing, {}, withRetry)).done()).error.Error).toBe('ECS.InvalidParameterException');
    expect(failing.calls.filter((c) => c.action === 'RunTask')).toHaveLength(4);
    const clearing = fakeEcs({ refuseWith: 'InvalidParameterException', refusals: 2 });
    const record = await (await run(clearing, {}, withRetry)).done();
    expect(record.status).toBe('SUCCEEDED');
    expect(output(record).task).toMatchObject({ LastStatus: 'STOPPED', Containers: [{ Name: 'app', ExitCode: 0 }] });
    expect(clearing.calls.filter((c) => c.action === 'RunTask')).toHaveLength(3);
    // a task that ran and failed is never run again
    const ran = fakeEcs({ exitCode: 1 });
    expect(output(await (await run(ran, {}, withRetry)).done()).error.Error).toBe('States.TaskFailed');
    expect(ran.calls.filter((c) => c.action === 'RunTask')).toHaveLength(1);
  });

  it('TimeoutSecondsPath is read from the state\'s input: past it the state fails with States.Timeout and the runner leaves the task to RecordHookRun', async () => {
    const ecs = fakeEcs({ afterMs: 60_000 });
    const record = await (await run(ecs, { limits: { seconds: 1 } })).done();
    expect(output(record).error.Error).toBe('States.Timeout');
    expect(ecs.calls.filter((c) => c.action === 'StopTask')).toEqual([]);
  });

  it('a TimeoutSecondsPath that is not a positive integer is States.Runtime, and no task is started', async () => {
    const ecs = fakeEcs();
    const record = await (await run(ecs, { limits: { seconds: 0 } })).done();
    expect(output(record).error.Error).toBe('States.Runtime');
    expect(ecs.calls).toEqual([]);
  });

  it('stopping the execution stops the task it waits for', async () => {
    const ecs = fakeEcs({ afterMs: 60_000 });
    const { started, done } = await run(ecs, {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    runner!.stopExecution(started.executionArn);
    expect((await done()).status).toBe('ABORTED');
    expect(ecs.calls.filter((c) => c.action === 'StopTask')).toHaveLength(1);
  });
});
