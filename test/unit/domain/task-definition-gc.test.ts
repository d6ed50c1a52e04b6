import { describe, expect, it } from 'vitest';
import { environmentSpecSchema } from '../../../functions/domain/environment-spec.ts';
import { renderPlan, type PlanSettings } from '../../../functions/domain/resource-plan.ts';
import { familiesOf, holdBack, parseRevisionArn, planCollection, type Revision, type UsageEvidence } from '../../../functions/domain/task-definition-gc.ts';

const arn = (family: string, revision: number) => `arn:aws:ecs:eu-west-1:000000000000:task-definition/${family}:${revision}`;
const rev = (family: string, revision: number, status: Revision['status'] = 'ACTIVE'): Revision => ({ arn: arn(family, revision), family, revision, status });
const A = 'fledge-td-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'fledge-td-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const GRACE_END = '2026-12-06T12:00:00.000Z';
const evidence = (over: Partial<UsageEvidence> = {}): UsageEvidence => ({
  running: new Set(), liveFamilies: new Set(), lastUsedAt: new Map(), graceEnd: GRACE_END, ...over,
});

describe('parseRevisionArn', () => {
  it('reads family and revision from a revision ARN, nothing else', () => {
    expect(parseRevisionArn(arn(A, 12))).toEqual({ family: A, revision: 12 });
    expect(parseRevisionArn('arn:aws:ecs:eu-west-1:000000000000:service/c/web')).toBeUndefined();
  });
});

describe('planCollection', () => {
  it('makes every revision of an unused shared family a candidate, oldest family and revision first; never another family', () => {
    const plan = planCollection([rev(B, 1), rev(A, 2), rev(A, 1, 'INACTIVE'), rev('fledge-pr-1', 1), rev('someone-else', 3)], evidence());
    expect(plan.candidates.map((r) => r.arn)).toEqual([arn(A, 1), arn(A, 2), arn(B, 1)]);
    expect(plan.kept).toEqual([]);
  });

  it('keeps what a service runs or deploys, whatever its family', () => {
    const plan = planCollection([rev(A, 1), rev(A, 2)], evidence({ running: new Set([arn(A, 1)]) }));
    expect(plan.kept).toEqual([{ arn: arn(A, 1), because: 'service' }]);
    expect(plan.candidates.map((r) => r.arn)).toEqual([arn(A, 2)]);
  });

  it("keeps a live environment's family's latest ACTIVE revision (what a create or heal finds); older duplicates go", () => {
    const plan = planCollection([rev(A, 1), rev(A, 2), rev(A, 3, 'INACTIVE')], evidence({ liveFamilies: new Set([A]) }));
    expect(plan.kept).toEqual([{ arn: arn(A, 2), because: 'live-environment' }]);
    expect(plan.candidates.map((r) => r.arn)).toEqual([arn(A, 1), arn(A, 3)]);
  });

  it('keeps every revision of a family a plan step picked within the grace, and none picked before it', () => {
    const recent = planCollection([rev(A, 1), rev(A, 2, 'INACTIVE')], evidence({ lastUsedAt: new Map([[A, '2026-12-06T12:00:01.000Z']]) }));
    expect(recent.kept.map((k) => k.because)).toEqual(['recently-picked', 'recently-picked']);
    expect(recent.candidates).toEqual([]);
    const old = planCollection([rev(A, 1)], evidence({ lastUsedAt: new Map([[A, '2026-12-06T11:59:59.000Z']]) }));
    expect(old.candidates.map((r) => r.arn)).toEqual([arn(A, 1)]);
  });
});

describe('holdBack', () => {
  it('keeps what is not this installation\'s, and an ACTIVE revision registered within the grace (an update deploys it right away)', () => {
    expect(holdBack(rev(A, 1), { ours: false, registeredAt: '2026-01-01T00:00:00.000Z' }, GRACE_END)).toBe('not-ours');
    expect(holdBack(rev(A, 1), { ours: true, registeredAt: '2026-12-06T12:30:00.000Z' }, GRACE_END)).toBe('registered-recently');
    expect(holdBack(rev(A, 1), { ours: true }, GRACE_END)).toBe('registered-recently');
    expect(holdBack(rev(A, 1), { ours: true, registeredAt: '2026-12-01T00:00:00.000Z' }, GRACE_END)).toBeUndefined();
    // INACTIVE: nothing can deploy it any more, only its deletion is left
    expect(holdBack(rev(A, 1, 'INACTIVE'), { ours: true, registeredAt: '2026-12-06T12:30:00.000Z' }, GRACE_END)).toBeUndefined();
  });
});

describe('familiesOf', () => {
  const settings: Omit<PlanSettings, 'loadBalancerDimension'> = {
    clusterArn: 'arn:aws:ecs:eu-west-1:000000000000:cluster/fledge', subnetIds: ['s'], securityGroupIds: ['g'], assignPublicIp: 'DISABLED',
    executionRoleArn: 'arn:aws:iam::000000000000:role/exec', taskRoleArn: 'arn:aws:iam::000000000000:role/task', logGroup: '/fledge',
    region: 'eu-west-1', baseDomain: 'preview.example.com', installationId: 'test',
  };
  const spec = (image: string) => environmentSpecSchema({ maxTtlMs: 86_400_000 }).parse({ image, labels: { repository: 'acme/web' } });

  it('is the family the spec renders to, and the family of each image a heal may roll back to', () => {
    const families = familiesOf({ spec: spec('web:3'), lastHealthyImage: 'web:2', healthyImages: ['web:2', 'web:1'] }, settings);
    const familyOf = (image: string) => renderPlan('x', spec(image), { ...settings, loadBalancerDimension: 'app/fledge/0123456789abcdef' }, 'op', 1).taskDefinition.Family;
    expect(families).toEqual([familyOf('web:3'), familyOf('web:2'), familyOf('web:1')]);
    expect(familiesOf({ spec: spec('web:3') }, settings)).toEqual([familyOf('web:3')]);
  });
});
