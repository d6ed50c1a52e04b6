import { describe, expect, it } from 'vitest';
import { renderPlan } from '../../../functions/domain/resource-plan.ts';
import { needsNewRevision } from '../../../functions/domain/scale-plan.ts';
import {
  mayIdleSleep, needsScaleWorkflow, optsOutOfSleep, parseIdleSleepAfter, scaledSpec, scaleIntent, scaleRequestSchema,
  sleptFromCountFor, wakeCount, wokenSpec,
} from '../../../functions/domain/scaling.ts';
import { record, spec } from '../../support/records.ts';

const range = (minCount: number, maxCount: number) => ({ minCount, maxCount, targetCpuPercent: 60 });

describe('a scale request', () => {
  it('needs desiredCount or autoscaling, nothing else', () => {
    expect(scaleRequestSchema.safeParse({}).success).toBe(false);
    expect(scaleRequestSchema.safeParse({ desiredCount: 0 }).success).toBe(true);
    expect(scaleRequestSchema.safeParse({ autoscaling: null }).success).toBe(true);
    expect(scaleRequestSchema.safeParse({ desiredCount: 1, ttl: '1h' }).success).toBe(false);
  });

  it('changes only the count and autoscaling of the desired spec', () => {
    const current = spec({ desiredCount: 1, environment: { A: '1' } });
    const { spec: next, errors } = scaledSpec(current, { desiredCount: 4 });
    expect(errors).toEqual([]);
    expect(next).toEqual({ ...current, desiredCount: 4 });
  });

  it('keeps the count within new autoscaling bounds; a sleeping environment stays asleep', () => {
    expect(scaledSpec(spec({ desiredCount: 1 }), { autoscaling: range(2, 4) }).spec).toMatchObject({ desiredCount: 2, autoscaling: range(2, 4) });
    expect(scaledSpec(spec({ desiredCount: 6 }), { autoscaling: range(2, 4) }).spec.desiredCount).toBe(4);
    expect(scaledSpec(spec({ desiredCount: 0 }), { autoscaling: range(2, 4) }).spec.desiredCount).toBe(0);
  });

  it('null turns autoscaling off and keeps the count', () => {
    const { spec: next } = scaledSpec(spec({ desiredCount: 3, autoscaling: range(2, 4) }), { autoscaling: null });
    expect(next.autoscaling).toBeUndefined();
    expect('autoscaling' in next).toBe(false);
    expect(next.desiredCount).toBe(3);
  });

  it('an explicit count outside the bounds is an error on desiredCount', () => {
    expect(scaledSpec(spec({ desiredCount: 2, autoscaling: range(2, 4) }), { desiredCount: 5 }).errors).toEqual([
      { path: 'desiredCount', message: expect.stringContaining('2..4') },
    ]);
  });

  it('names its intent: sleep, wake or scale', () => {
    expect(scaleIntent(record(), spec({ desiredCount: 0 }))).toBe('sleep');
    expect(scaleIntent(record({ status: 'SLEEPING', spec: spec({ desiredCount: 0 }) }), spec({ desiredCount: 2 }))).toBe('wake');
    expect(scaleIntent(record(), spec({ desiredCount: 2 }))).toBe('scale');
  });
});

describe('sleep and wake', () => {
  it('remembers the count an environment slept from until it is awake again', () => {
    expect(sleptFromCountFor(record({ spec: spec({ desiredCount: 3 }) }), spec({ desiredCount: 0 }))).toBe(3);
    expect(sleptFromCountFor(record({ spec: spec({ desiredCount: 0 }), sleptFromCount: 3 }), spec({ desiredCount: 0, image: 'web:2' }))).toBe(3);
    expect(sleptFromCountFor(record({ spec: spec({ desiredCount: 0 }), sleptFromCount: 3 }), spec({ desiredCount: 3 }))).toBeUndefined();
  });

  it('wakes to that count, at least 1, within the autoscaling bounds', () => {
    expect(wakeCount({ sleptFromCount: 3, spec: spec({ desiredCount: 0 }) })).toBe(3);
    expect(wakeCount({ sleptFromCount: undefined, spec: spec({ desiredCount: 0 }) })).toBe(1);
    expect(wakeCount({ sleptFromCount: 1, spec: spec({ desiredCount: 0, autoscaling: range(2, 4) }) })).toBe(2);
  });

  it('a spec change of a sleeping environment wakes it; of a running one changes nothing', () => {
    const asleep = record({ status: 'SLEEPING', spec: spec({ desiredCount: 0 }), sleptFromCount: 2 });
    expect(wokenSpec(asleep, spec({ desiredCount: 0, image: 'web:2' })).desiredCount).toBe(2);
    expect(wokenSpec(asleep, spec({ desiredCount: 5 })).desiredCount).toBe(5);
    expect(wokenSpec(record(), spec({ desiredCount: 0 })).desiredCount).toBe(0);
  });

  it('sleep, wake and autoscaling changes go to the scale workflow; the rest to update', () => {
    expect(needsScaleWorkflow(record(), spec({ image: 'web:2' }))).toBe(false);
    expect(needsScaleWorkflow(record(), spec({ desiredCount: 0 }))).toBe(true);
    expect(needsScaleWorkflow(record(), spec({ autoscaling: range(1, 2) }))).toBe(true);
    expect(needsScaleWorkflow(record({ status: 'SLEEPING', spec: spec({ desiredCount: 0 }) }), spec({ desiredCount: 1 }))).toBe(true);
  });
});

describe('idle sleep', () => {
  it('reads FLEDGE_IDLE_SLEEP_AFTER: durations with s/m/h/d, off by default', () => {
    expect(parseIdleSleepAfter('2h')).toBe(7_200_000);
    expect(parseIdleSleepAfter('90m')).toBe(5_400_000);
    expect(parseIdleSleepAfter('3s')).toBe(3000);
    expect(parseIdleSleepAfter(undefined)).toBeUndefined();
    expect(parseIdleSleepAfter('off')).toBeUndefined();
    expect(() => parseIdleSleepAfter('two hours')).toThrow(/FLEDGE_IDLE_SLEEP_AFTER/);
  });

  it('opting out takes fledge.dev/no-sleep: "true" (or yes/1/on)', () => {
    expect(optsOutOfSleep(spec({ labels: { 'fledge.dev/no-sleep': 'true' } }))).toBe(true);
    expect(optsOutOfSleep(spec({ labels: { 'fledge.dev/no-sleep': 'Yes' } }))).toBe(true);
    expect(optsOutOfSleep(spec({ labels: { 'fledge.dev/no-sleep': 'false' } }))).toBe(false);
    expect(optsOutOfSleep(spec())).toBe(false);
  });

  it('only RUNNING environments up for the whole idle period are candidates', () => {
    const now = Date.parse('2026-11-01T12:00:00Z');
    const candidate = { name: 'a', status: 'RUNNING' as const, spec: spec(), updatedAt: '2026-11-01T09:00:00Z' };
    expect(mayIdleSleep(candidate, 7_200_000, now)).toBe(true);
    expect(mayIdleSleep({ ...candidate, updatedAt: '2026-11-01T11:00:00Z' }, 7_200_000, now)).toBe(false);
    expect(mayIdleSleep({ ...candidate, status: 'SLEEPING' }, 7_200_000, now)).toBe(false);
    expect(mayIdleSleep({ ...candidate, spec: spec({ labels: { 'fledge.dev/no-sleep': 'true' } }) }, 7_200_000, now)).toBe(false);
  });
});

describe('does a scale also deploy?', () => {
  const settings = {
    installationId: 'fled1a2b', clusterArn: 'arn:aws:ecs:eu-west-1:1:cluster/c', subnetIds: ['s'], securityGroupIds: ['g'], assignPublicIp: 'DISABLED' as const,
    executionRoleArn: 'e', taskRoleArn: 't', logGroup: 'l', region: 'eu-west-1', baseDomain: 'preview.example.com', loadBalancerDimension: 'app/a/1',
  };
  const plan = (o: Record<string, unknown> = {}) => renderPlan('a', spec({ environment: { A: '1' }, ...o }), settings, 'op', 2);
  const running = `arn:aws:ecs:eu-west-1:1:task-definition/${plan().taskDefinition.Family}:3`;

  it('not when the service runs the family of the spec (content-addressed), whatever the count', () => {
    expect(needsNewRevision(plan({ desiredCount: 5 }), running)).toBe(false);
  });

  it('when the image, size, port, variables or secrets differ, or nothing is known to run', () => {
    expect(needsNewRevision(plan({ image: 'ghcr.io/acme/web:2.0' }), running)).toBe(true);
    expect(needsNewRevision(plan({ cpu: 512, memory: 1024 }), running)).toBe(true);
    expect(needsNewRevision(plan({ port: 80 }), running)).toBe(true);
    expect(needsNewRevision(plan({ environment: { A: '2' } }), running)).toBe(true);
    expect(needsNewRevision(plan(), undefined)).toBe(true);
  });
});
