import { describe, expect, it } from 'vitest';
import { environmentEvent, stepEvents } from '../../../functions/domain/events.ts';
import { runsOperation } from '../../../functions/domain/environment.ts';

describe('an environment event', () => {
  it('names the operation and actor of the workflow state it is built for', () => {
    const state = { name: 'web', operationId: 'op-7', actor: 'alice', specVersion: 3 };
    expect(environmentEvent({ at: '2026-01-01T00:00:00.000Z', state, type: 'steady', message: 'steady', details: { specVersion: 3 } })).toStrictEqual({
      at: '2026-01-01T00:00:00.000Z', type: 'steady', message: 'steady', operationId: 'op-7', actor: 'alice', details: { specVersion: 3 },
    });
  });

  it('carries no operation id or details when it has none, and is stamped now when no time is given', () => {
    const before = new Date().toISOString();
    const event = environmentEvent({ actor: 'system', type: 'orphans-removed', message: 'removed 2' });
    expect(Object.keys(event).sort()).toEqual(['actor', 'at', 'message', 'type']);
    expect(event.at >= before && event.at <= new Date().toISOString()).toBe(true);
  });

  it('of one step share one instant and one operation', () => {
    const event = stepEvents({ operationId: 'op-1', actor: 'schedule' }, '2026-01-02T00:00:00.000Z');
    const [a, b] = [event('spec-skipped', 'skipped', { specVersion: 2 }), event('converging', 'converging')];
    expect([a.at, b.at]).toEqual(['2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z']);
    expect([a.operationId, b.operationId, b.actor]).toEqual(['op-1', 'op-1', 'schedule']);
    expect('details' in b).toBe(false);
  });
});

describe('is the operation still current?', () => {
  const running = { operation: { id: 'op-1', type: 'update' as const, status: 'RUNNING' as const, startedAt: '2026-01-01T00:00:00.000Z' } };
  it('only while it is the environment\'s operation and still running', () => {
    expect(runsOperation(running, 'op-1')).toBe(true);
    expect(runsOperation(running, 'op-2')).toBe(false);
    expect(runsOperation({ operation: { ...running.operation, status: 'SUCCEEDED' as const } }, 'op-1')).toBe(false);
    expect(runsOperation({}, 'op-1')).toBe(false);
    expect(runsOperation(undefined, 'op-1')).toBe(false);
  });
});
