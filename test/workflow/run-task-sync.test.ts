/**
 * The local runner's `arn:aws:states:::ecs:runTask.sync` against a stand-in ECS: what the state
 * outputs, how it fails (States.TaskFailed with the task as Cause, AmazonECS.Unknown on Failures,
 * ECS.AmazonECSException when RunTask is refused), TimeoutSecondsPath read from the state's input,
 * and the task stopped when the state times out or the execution is stopped.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkflowRunner, type WorkflowRunner } from '../../infra/local/workflow-runner.ts';

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
function fakeEcs(options: { exitCode?: number; sidecarExit?: number; afterMs?: number; failures?: boolean; refuse?: boolean } = {}) {
  const calls: { action: string; params: Record<string, unknown> }[] = [];
  let task: FakeTask | undefined;
  const callAws = async (_service: string, action: string, params: Record<string, unknown>) => {
    calls.push({ action, params });
    if (action === 'RunTask') {
      if (options.refuse) throw Object.assign(new Error('Tasks provisioning capacity limit exceeded.'), { name: 'ThrottlingException' });
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
    if (action === 'DescribeTasks') return { Tasks: [structuredClone(task)] };
    if (action === 'StopTask') {
      task!.LastStatus = 'STOPPED';
      task!.Containers = [{ Name: 'app', ExitCode: 143 }];
      return {};
    }
    throw new Error(`unexpected ${action}`);
  };
  return { calls, callAws };
}

async function run(ecs: ReturnType<typeof fakeEcs>, input: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'fledge-sync-'));
  writeFileSync(join(dir, 'create.asl.json'), JSON.stringify(DEFINITION));
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

  it('TimeoutSecondsPath is read from the state\'s input: past it the task is stopped and the state fails with States.Timeout', async () => {
    const ecs = fakeEcs({ afterMs: 60_000 });
    const record = await (await run(ecs, { limits: { seconds: 1 } })).done();
    expect(output(record).error.Error).toBe('States.Timeout');
    expect(ecs.calls.filter((c) => c.action === 'StopTask')).toHaveLength(1);
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
