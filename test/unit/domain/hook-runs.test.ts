import { describe, expect, it } from 'vitest';
import { renderHooks, type HookPlan } from '../../../functions/domain/hooks.ts';
import { judgeHookRun } from '../../../functions/domain/hook-runs.ts';
import { classifyFailure } from '../../../functions/domain/task-failure.ts';
import { estimateCost } from '../../../functions/domain/cost.ts';

const plan: HookPlan = { command: ['seed'], timeoutSeconds: 60, stateTimeoutSeconds: 360 };
const LOGS = '/v1/environments/pr-1/logs?since=2026-01-01T00:00:00.000Z';
const task = (appExit: number | undefined, runSeconds: number, more: Record<string, unknown> = {}) => ({
  TaskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/fledge/0123456789abcdef0123456789abcdef',
  LastStatus: 'STOPPED',
  StartedAt: 1_767_225_600_000,
  StoppedAt: 1_767_225_600_000 + runSeconds * 1000,
  StopCode: 'EssentialContainerExited',
  Containers: [{ Name: 'app', ...(appExit === undefined ? {} : { ExitCode: appExit }) }],
  ...more,
});

describe('a hook run, judged', () => {
  it('renders each hook with its state timeout: its own plus 300 s to provision and pull; none without hooks', () => {
    expect(renderHooks({ afterCreate: { command: ['seed'], timeoutSeconds: 600 } })).toEqual({ afterCreate: { command: ['seed'], timeoutSeconds: 600, stateTimeoutSeconds: 900 } });
    expect(renderHooks(undefined)).toBeUndefined();
    expect(renderHooks({})).toBeUndefined();
  });

  it('exit 0 within its timeout: no failure, the app container\'s log stream and the task-seconds', () => {
    expect(judgeHookRun('afterCreate', plan, { task: task(0, 42) }, LOGS)).toEqual({
      hook: 'afterCreate', exitCode: 0, durationSeconds: 42, logStream: 'fledge/app/0123456789abcdef0123456789abcdef', timedOut: false,
    });
  });

  it('a non-zero exit (States.TaskFailed, the task in the Cause) is HOOK_FAILED with the code, the duration and where the logs are, no ARN', () => {
    const judged = judgeHookRun('beforeUpdate', plan, { Error: 'States.TaskFailed', Cause: JSON.stringify(task(3, 5)) }, LOGS);
    expect(judged).toMatchObject({ exitCode: 3, durationSeconds: 5, failure: { code: 'HOOK_FAILED', message: `the beforeUpdate hook exited with code 3 after 5 s; its logs: GET ${LOGS}` } });
    expect(judged.failure!.message).not.toContain('arn:');
    // FailOperation takes the hook's own words over anything the service's tasks say
    expect(classifyFailure({ Error: 'HookFailed', Cause: JSON.stringify({ errorType: 'HookFailed', errorMessage: judged.failure!.message }) }, [{ stopCode: 'EssentialContainerExited', containers: [{ exitCode: 1 }] }])).toEqual(judged.failure);
  });

  it('a run longer than timeoutSeconds timed out, even when it exited 0; a state timeout says it was stopped', () => {
    expect(judgeHookRun('afterCreate', plan, { task: task(0, 61) }, LOGS).failure!.message).toBe(`the afterCreate hook timed out after 61 s (timeoutSeconds 60); its logs: GET ${LOGS}`);
    const stopped = judgeHookRun('afterCreate', plan, { Error: 'States.Timeout', Cause: 'the state timed out' }, LOGS);
    expect(stopped).toMatchObject({ exitCode: null, timedOut: true, failure: { code: 'HOOK_FAILED' } });
    expect(stopped.failure!.message).toMatch(/^the afterCreate hook timed out: it did not finish within 360 s/);
  });

  it('a sidecar\'s non-zero exit fails the run (as .sync does) and says so; a task that never started says that', () => {
    const sidecar = task(0, 5, { Containers: [{ Name: 'app', ExitCode: 0 }, { Name: 'db', ExitCode: 2 }] });
    expect(judgeHookRun('afterCreate', plan, { Error: 'States.TaskFailed', Cause: JSON.stringify(sidecar) }, LOGS).failure!.message).toMatch(/sidecar db exited with code 2/);
    const neverStarted = task(undefined, 0, { StartedAt: undefined, StopCode: 'TaskFailedToStart' });
    const judged = judgeHookRun('afterCreate', plan, { Error: 'States.TaskFailed', Cause: JSON.stringify(neverStarted) }, LOGS);
    expect(judged).toMatchObject({ exitCode: null, durationSeconds: 0 });
    expect(judged.logStream).toBeUndefined();
    expect(judged.failure!.message).toMatch(/task failed to start \(TaskFailedToStart\)/);
    // RunTask refused: nothing ran; the error's name only, never its Cause (AWS's text)
    const refused = judgeHookRun('afterCreate', plan, { Error: 'ECS.AmazonECSException', Cause: 'User: arn:aws:sts::123456789012:assumed-role/x is not authorized' }, LOGS);
    expect(refused.failure!.message).toBe(`the afterCreate hook's task could not be run (ECS.AmazonECSException); its logs: GET ${LOGS}`);
  });

  it('app exit 0 and sidecars killed by the stop ECS sends them (143 SIGTERM, 137 SIGKILL) is a success, though .sync failed the state', () => {
    const stoppedWithApp = task(0, 5, { Containers: [{ Name: 'app', ExitCode: 0 }, { Name: 'db', ExitCode: 143 }, { Name: 'cache', ExitCode: 137 }, { Name: 'mock', ExitCode: 0 }] });
    const judged = judgeHookRun('afterCreate', plan, { Error: 'States.TaskFailed', Cause: JSON.stringify(stoppedWithApp) }, LOGS);
    expect(judged).toEqual({ hook: 'afterCreate', exitCode: 0, durationSeconds: 5, logStream: 'fledge/app/0123456789abcdef0123456789abcdef', timedOut: false });
  });

  it('still fails: a sidecar that crashed (exit 1) or never ran, a task stopped by someone else, an app that died of the stop too, a run past its timeout', () => {
    const judge = (containers: unknown[], more: Record<string, unknown> = {}, seconds = 5) =>
      judgeHookRun('afterCreate', plan, { Error: 'States.TaskFailed', Cause: JSON.stringify(task(0, seconds, { Containers: containers, ...more })) }, LOGS);
    expect(judge([{ Name: 'app', ExitCode: 0 }, { Name: 'db', ExitCode: 143 }, { Name: 'cache', ExitCode: 1 }]).failure!.message).toMatch(/sidecar cache exited with code 1, which fails the run/);
    expect(judge([{ Name: 'app', ExitCode: 0 }, { Name: 'db' }]).failure!.message).toMatch(/sidecar db did not run, which fails the run/);
    // StopTask (UserInitiated) or any other stop than the app's own exit: the sidecars' 143 is not the hook's success
    expect(judge([{ Name: 'app', ExitCode: 0 }, { Name: 'db', ExitCode: 143 }], { StopCode: 'UserInitiated' }).failure!.code).toBe('HOOK_FAILED');
    expect(judge([{ Name: 'app', ExitCode: 143 }, { Name: 'db', ExitCode: 143 }]).failure!.message).toMatch(/exited with code 143/);
    expect(judge([{ Name: 'app', ExitCode: 0 }, { Name: 'db', ExitCode: 143 }], {}, 61).failure!.message).toMatch(/timed out after 61 s/);
  });

it('hook task-seconds (H17a\'s hookSeconds) count in the cost at the task\'s size, and nothing in its hourly rate', () => {
    const record = { spec: { cpu: 1024, memory: 2048 }, runningCount: 0, taskTime: { seconds: 0, count: 0, since: '2026-01-01T00:00:00Z' } };
    const price = { vcpuHour: 0.04, gbHour: 0.004 };
    const now = new Date('2026-01-02T00:00:00Z');
    expect(estimateCost(record, price, now).toDate).toBe(0);
    // an hour of hooks of a 1 vCPU / 2 GB task: 0.04 + 2 x 0.004
    expect(estimateCost({ ...record, hookSeconds: 3600 }, price, now)).toEqual({ perHour: 0, toDate: 0.048, currency: 'USD' });
  });
});
