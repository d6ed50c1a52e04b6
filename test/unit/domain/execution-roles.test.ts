/**
 * The execution role of an environment's task definition (docs/security.md "Secrets"): its
 * repository's own role when it has secrets, the shared one (which reads no secret) otherwise.
 */
import { describe, expect, it } from 'vitest';
import { environmentSpecSchema } from '../../../functions/domain/environment-spec.ts';
import { renderPlan, type PlanSettings } from '../../../functions/domain/resource-plan.ts';
import {
  executionRoleArnFor,
  isInstallationExecutionRole,
  secretExecutionRoleArn,
  secretExecutionRoleName,
} from '../../../functions/domain/execution-roles.ts';

const ACCOUNT = '123456789012';
const SHARED = `arn:aws:iam::${ACCOUNT}:role/Fledge-NetworkTaskExecutionRole1A2B3C-XYZ`;
const settings: PlanSettings = {
  installationId: 'acme1',
  clusterArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/fledge`,
  subnetIds: ['subnet-a'],
  securityGroupIds: ['sg-1'],
  assignPublicIp: 'DISABLED',
  executionRoleArn: SHARED,
  taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/task`,
  logGroup: '/fledge/environments',
  region: 'eu-west-1',
  baseDomain: 'preview.example.com',
  loadBalancerDimension: 'app/fledge-s1/0123456789abcdef',
};
const parse = (input: Record<string, unknown>) => environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 }).parse({ image: 'ghcr.io/acme/web:1', ...input });
const secretOf = (repository: string) => `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:fledge/${repository}/db-AbCdEf`;
const roleOf = (input: Record<string, unknown>) => renderPlan('pr-1', parse(input), settings, 'op-1', 1).taskDefinition.ExecutionRoleArn;

describe("a repository's execution role name", () => {
  it('is fledge-<installation>-sec-<16 hex>-<region>, within IAM role name rules, and stable', () => {
    const name = secretExecutionRoleName('acme1', 'acme/web', 'eu-west-1');
    expect(name).toMatch(/^fledge-acme1-sec-[0-9a-f]{16}-eu-west-1$/);
    expect(name).toBe(secretExecutionRoleName('acme1', 'acme/web', 'eu-west-1'));
    // the longest installation id and region name still fit IAM's 64 characters of [\w+=,.@-]
    expect(secretExecutionRoleName('abcdefgh', 'a'.repeat(39) + '/' + 'b'.repeat(100), 'ap-southeast-2')).toMatch(/^[\w+=,.@-]{1,64}$/);
  });

  it('differs per repository, per installation and per region (IAM names are account-wide; and by case: namespaces are case-sensitive)', () => {
    const names = new Set([
      secretExecutionRoleName('acme1', 'acme/web', 'us-east-1'),
      secretExecutionRoleName('acme1', 'acme/web', 'eu-west-1'),
      secretExecutionRoleName('acme1', 'acme/billing', 'eu-west-1'),
      secretExecutionRoleName('other', 'acme/web', 'eu-west-1'),
      secretExecutionRoleName('acme1', 'Acme/Web', 'eu-west-1'),
    ]);
    expect(names.size).toBe(5);
  });
});

describe('the execution role a plan names', () => {
  it('is the shared role for an environment without secrets, even with a repository', () => {
    expect(roleOf({ labels: { repository: 'acme/web' } })).toBe(SHARED);
    expect(roleOf({})).toBe(SHARED);
  });

  it("is the repository's role, in the shared role's account and partition, when the spec has secrets", () => {
    const role = roleOf({ labels: { repository: 'acme/web' }, secrets: { DB: secretOf('acme/web') } });
    expect(role).toBe(`arn:aws:iam::${ACCOUNT}:role/${secretExecutionRoleName('acme1', 'acme/web', 'eu-west-1')}`);
    expect(role).toBe(secretExecutionRoleArn('aws', ACCOUNT, 'acme1', 'acme/web', 'eu-west-1'));
  });

  it('gives two repositories two roles, and so two task definition families', () => {
    const web = renderPlan('pr-1', parse({ labels: { repository: 'acme/web' }, secrets: { DB: secretOf('acme/web') } }), settings, 'op-1', 1);
    const billing = renderPlan('pr-1', parse({ labels: { repository: 'acme/billing' }, secrets: { DB: secretOf('acme/web') } }), settings, 'op-1', 1);
    expect(web.taskDefinition.ExecutionRoleArn).not.toBe(billing.taskDefinition.ExecutionRoleArn);
    expect(web.taskDefinition.Family).not.toBe(billing.taskDefinition.Family);
  });

  it('follows the partition of the shared role (aws-cn)', () => {
    const cn = { ...settings, executionRoleArn: `arn:aws-cn:iam::${ACCOUNT}:role/shared` };
    expect(executionRoleArnFor({ secrets: { DB: 'x' }, labels: { repository: 'acme/web' } }, cn)).toBe(secretExecutionRoleArn('aws-cn', ACCOUNT, 'acme1', 'acme/web', 'eu-west-1'));
  });

  it('keeps the shared role (which reads no secret) for secrets without a repository that can own them', () => {
    expect(executionRoleArnFor({ secrets: { DB: 'x' }, labels: {} }, settings)).toBe(SHARED);
    expect(executionRoleArnFor({ secrets: { DB: 'x' }, labels: { repository: 'acme' } }, settings)).toBe(SHARED);
  });

  it('fails loudly when the shared role is not an IAM role ARN (a misconfigured installation)', () => {
    expect(() => executionRoleArnFor({ secrets: { DB: 'x' }, labels: { repository: 'acme/web' } }, { ...settings, executionRoleArn: 'exec' })).toThrow(/FLEDGE_EXECUTION_ROLE_ARN/);
  });
});

describe("this installation's execution roles (the orphan reconciler's ownership check)", () => {
  it("are the shared role and the repositories' roles of this installation", () => {
    expect(isInstallationExecutionRole(SHARED, SHARED, 'acme1')).toBe(true);
    expect(isInstallationExecutionRole(secretExecutionRoleArn('aws', ACCOUNT, 'acme1', 'acme/web', 'eu-west-1'), SHARED, 'acme1')).toBe(true);
  });

  it.each([
    ['another installation\'s repository role', secretExecutionRoleArn('aws', ACCOUNT, 'other', 'acme/web', 'eu-west-1')],
    ['a repository role in another account', secretExecutionRoleArn('aws', '210987654321', 'acme1', 'acme/web', 'eu-west-1')],
    ['a repository role in another partition', secretExecutionRoleArn('aws-cn', ACCOUNT, 'acme1', 'acme/web', 'eu-west-1')],
    ['a role merely named alike', `arn:aws:iam::${ACCOUNT}:role/fledge-acme1-sec-xyz`],
    ['a repository role without a region', `arn:aws:iam::${ACCOUNT}:role/fledge-acme1-sec-0123456789abcdef`],
    ['another role', `arn:aws:iam::${ACCOUNT}:role/admin`],
    ['none', undefined],
  ])('not %s', (_case, arn) => {
    expect(isInstallationExecutionRole(arn, SHARED, 'acme1')).toBe(false);
  });
});
