/**
 * How a workflow ended, as the operator's metrics (functions/commands/workflow-outcome.ts):
 * a success, a user's failure (their image) or a control-plane failure, kept apart by the
 * failure's code; only the last pages (infra/aws/observability.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAST, SimHarness, spec } from './support/sim-harness.ts';
import { clearRecordedMetrics, recordedMetrics } from '../../functions/runtime/metric-emitter.ts';

const h = new SimHarness();
beforeAll(() => h.start(), 90_000);
afterAll(() => h.stop());
beforeEach(() => {
  clearRecordedMetrics();
  return h.reset({ timeoutOverrides: { AwaitSteadyState: 2 }, simulator: FAST });
});

const outcomes = () =>
  recordedMetrics()
    .filter((m) => ['WorkflowSucceeded', 'UserFailures', 'ControlPlaneFailures', 'Degraded'].includes(m.name))
    .map((m) => ({ name: m.name, dimensions: m.dimensions, sum: m.sum }));

describe('workflow outcome metrics', () => {
  it('a create that ends RUNNING counts one success', async () => {
    const record = await h.run('create', await h.seed('metrics-ok', spec()));
    expect(record.status).toBe('SUCCEEDED');
    expect(outcomes()).toEqual([{ name: 'WorkflowSucceeded', dimensions: { workflow: 'create' }, sum: 1 }]);
  });

  it("a create of an image that exits counts a user's failure (TASK_EXITED), not a control-plane one", async () => {
    const record = await h.run('create', await h.seed('metrics-user', spec({ image: 'ghcr.io/acme/web:fail-start' })));
    expect(record.status).toBe('FAILED');
    expect(outcomes()).toEqual([{ name: 'UserFailures', dimensions: { code: 'TASK_EXITED', workflow: 'create' }, sum: 1 }]);
  });

  it('a create that AWS refuses past its retries counts a control-plane failure (AWS_LIMIT)', async () => {
    h.failOn('CreateTargetGroup', 'TooManyTargetGroups', 'too many target groups');
    const record = await h.run('create', await h.seed('metrics-limit', spec()));
    expect(record.status).toBe('FAILED');
    expect(outcomes()).toEqual([{ name: 'ControlPlaneFailures', dimensions: { code: 'AWS_LIMIT', workflow: 'create' }, sum: 1 }]);
  });

  it("a heal that gives up counts DEGRADED and a user's failure of the heal (the app fails its health checks), not a success", async () => {
    await h.reset({ timeoutOverrides: { AwaitSteadyState: 1, AwaitSteadyStateAfterConverging: 1 } });
    await h.created('metrics-hopeless');
    h.sim.injectFault({ environment: 'metrics-hopeless', fault: 'unhealthy' });
    expect(await h.until(() => h.service('metrics-hopeless')!.tasks.every((t) => t.targetHealth !== 'healthy'))).toBe(true);
    clearRecordedMetrics();
    await h.heal('metrics-hopeless');
    expect((await h.item('metrics-hopeless'))?.status).toBe('DEGRADED');
    expect(outcomes()).toEqual([
      { name: 'Degraded', dimensions: {}, sum: 1 },
      { name: 'UserFailures', dimensions: { code: 'HEALTH_CHECK_FAILED', workflow: 'heal' }, sum: 1 },
    ]);
  }, 60_000);
});
