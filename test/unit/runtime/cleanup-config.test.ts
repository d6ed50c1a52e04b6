import { describe, expect, it } from 'vitest';
import { readCleanupConfig } from '../../../functions/runtime/config.ts';
import { summarize } from '../../../functions/commands/cleanup-steps.ts';

describe('cleanup settings', () => {
  it('default as documented, the same on AWS and locally', () => {
    expect(readCleanupConfig({})).toEqual({ maxPerRun: 100, stuckAfterMs: 3_600_000, orphanGraceMs: 300_000, maxOrphanEnvironmentsPerRun: 25, taskDefinitionGraceMs: 86_400_000, clockOffsetMs: 0, quotaGlobal: 99, quotaPerRepository: 20 });
  });

  it('honour the clock offset in local mode only: on AWS the cleanup judges expiry by the real start time', () => {
    expect(readCleanupConfig({ FLEDGE_LOCAL_MODE: 'true', FLEDGE_LOCAL_CLOCK_OFFSET: '50s' }).clockOffsetMs).toBe(50_000);
    expect(readCleanupConfig({ FLEDGE_LOCAL_CLOCK_OFFSET: '50s' }).clockOffsetMs).toBe(0);
  });

  it('refuse values that are not durations or counts', () => {
    expect(() => readCleanupConfig({ FLEDGE_CLEANUP_STUCK_AFTER: 'an hour' })).toThrow(/FLEDGE_CLEANUP_STUCK_AFTER/);
    expect(() => readCleanupConfig({ FLEDGE_CLEANUP_ORPHAN_GRACE: '15' })).toThrow(/FLEDGE_CLEANUP_ORPHAN_GRACE/);
    expect(() => readCleanupConfig({ FLEDGE_CLEANUP_MAX_PER_RUN: '0' })).toThrow(/FLEDGE_CLEANUP_MAX_PER_RUN/);
    expect(readCleanupConfig({ FLEDGE_CLEANUP_ORPHAN_GRACE: '0' }).orphanGraceMs).toBe(0);
    expect(() => readCleanupConfig({ FLEDGE_CLEANUP_TASK_DEFINITION_GRACE: 'a day' })).toThrow(/FLEDGE_CLEANUP_TASK_DEFINITION_GRACE/);
    expect(readCleanupConfig({ FLEDGE_CLEANUP_TASK_DEFINITION_GRACE: '2d' }).taskDefinitionGraceMs).toBe(2 * 86_400_000);
  });
});

describe('the run summary', () => {
  const state = {
    asOf: '2026-11-01T10:00:00.000Z', executionName: 'x', items: [], more: false,
    reads: { expiry: { itemsRead: 2, requests: 1 }, unsettled: { itemsRead: 1, requests: 3 } },
  };

  it('counts outcomes and reads; a failed orphan step counts as a failure', () => {
    const summary = summarize({
      state: {
        ...state,
        results: [
          { name: 'a', action: 'expire', outcome: 'teardown-started' },
          { name: 'b', action: 'expire', outcome: 'failed', detail: 'boom' },
          { name: 'c', action: 'retry-teardown', outcome: 'teardown-restarted' },
        ],
        orphansError: { Error: 'Lambda.Unknown', Cause: 'timeout' },
      },
    });
    expect(summary).toMatchObject({ planned: 3, teardownsStarted: 1, teardownsRestarted: 1, failed: 2, itemsRead: 3, orphanEnvironments: 0 });
    expect(summary.failures.map((f) => f.name)).toEqual(['b', '*']);
  });

  it('counts the shared task definitions collected; candidates left make `more`, a collection that failed is a failure', () => {
    const collection = { deregistered: 3, deleted: 12, kept: 40, pending: 1, throttled: 2, more: true, removed: [] };
    const orphans = { environments: [], removed: 0, pending: 0, awsCalls: 9, recordsRead: 0, more: false, taskDefinitions: collection };
    expect(summarize({ state: { ...state, results: [], orphans: { report: orphans } } })).toMatchObject({
      taskDefinitionsDeregistered: 3, taskDefinitionsDeleted: 12, more: true, failed: 0,
    });
    const failed = summarize({
      state: { ...state, results: [], orphans: { report: { ...orphans, taskDefinitions: { ...collection, error: 'AccessDeniedException: no' } } } },
    });
    expect(failed).toMatchObject({ failed: 1, failures: [{ name: '*', action: 'collect-task-definitions', outcome: 'failed', detail: 'AccessDeniedException: no' }] });
  });
});
