/**
 * Secrets per repository, on the IAM side (docs/security.md "Secrets"): the task execution
 * role reads only the namespace root (`secret:<root>/*`, `parameter/<root>/*` of the stack's
 * account and region), decrypts only through those services for those secrets, and the
 * applications' own task role gets none of it. Synthesizes the Network construct alone (no
 * Lambda bundling) and evaluates its policies against candidate ARNs.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../infra/aws/config.ts';
import { Network } from '../../infra/aws/network.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON
type Json = any;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Record<string, Record<string, string | string[]>>;
}

const asArray = <T,>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Resolves the pseudo parameters CDK leaves in ARNs (the partition is always a token). */
function resolve(value: Json): Json {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(resolve);
  if (value?.Ref === 'AWS::Partition') return 'aws';
  if (value?.Ref === 'AWS::Region') return REGION;
  if (value?.Ref === 'AWS::AccountId') return ACCOUNT;
  if (value?.['Fn::Join']) return (value['Fn::Join'][1] as Json[]).map(resolve).join(value['Fn::Join'][0]);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  return value;
}

/** IAM's string matching: `*` any run of characters, `?` one. */
const glob = (pattern: string, text: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(text);

function synthNetwork(context: Record<string, unknown> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Secrets', { env: { account: ACCOUNT, region: REGION } });
  const network = new Network(stack, 'Network', { config: readConfig((key) => context[key]), logRetention: logs.RetentionDays.ONE_MONTH });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const statementsOf = (roleId: string): Statement[] =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && asArray(r.Properties.Roles).some((ref: Json) => ref?.Ref === roleId))
      .flatMap((r) => resolve(r.Properties.PolicyDocument.Statement) as Statement[]);
  const roleId = (role: unknown) => stack.getLogicalId((role as { node: { defaultChild: never } }).node.defaultChild);
  return { execution: statementsOf(roleId(network.executionRole)), task: statementsOf(roleId(network.taskRole)) };
}

/** Whether an unconditional Allow grants `action` on `arn` (conditional statements are judged apart). */
function allows(statements: Statement[], action: string, arn: string): boolean {
  return statements.some(
    (s) => s.Effect === 'Allow' && !s.Condition && asArray(s.Action).some((a) => glob(a, action)) && asArray(s.Resource).some((r: string) => glob(r, arn)),
  );
}

const sm = (name: string, account = ACCOUNT, region = REGION) => `arn:aws:secretsmanager:${region}:${account}:secret:${name}`;
const ssm = (name: string, account = ACCOUNT, region = REGION) => `arn:aws:ssm:${region}:${account}:parameter/${name}`;

describe('the task execution role and secrets', () => {
  const { execution, task } = synthNetwork();

  it('reads every repository\'s namespace under the root, in its own account and region', () => {
    expect(allows(execution, 'secretsmanager:GetSecretValue', sm('fledge/acme/web/db-AbCdEf'))).toBe(true);
    expect(allows(execution, 'secretsmanager:GetSecretValue', sm('fledge/acme/billing/db-AbCdEf'))).toBe(true);
    expect(allows(execution, 'ssm:GetParameters', ssm('fledge/acme/web/api-key'))).toBe(true);
  });

  it.each([
    ['a secret outside the root', 'secretsmanager:GetSecretValue', sm('prod/db-AbCdEf')],
    ['a root that only starts alike', 'secretsmanager:GetSecretValue', sm('fledgex/acme/web/db')],
    ["another account's secret", 'secretsmanager:GetSecretValue', sm('fledge/acme/web/db', '210987654321')],
    ["another region's secret", 'secretsmanager:GetSecretValue', sm('fledge/acme/web/db', ACCOUNT, 'us-east-1')],
    ['a parameter outside the root', 'ssm:GetParameters', ssm('prod/db')],
    ["another account's parameter", 'ssm:GetParameters', ssm('fledge/acme/web/db', '210987654321')],
    ['a parameter by another action', 'ssm:GetParametersByPath', ssm('fledge/acme/web')],
    ['any secret by a listing action', 'secretsmanager:ListSecrets', '*'],
  ])('cannot read %s', (_case, action, arn) => {
    expect(allows(execution, action, arn)).toBe(false);
  });

  it('decrypts only through Secrets Manager or SSM, and only for a secret under the root', () => {
    const decrypts = execution.filter((s) => asArray(s.Action).some((a) => glob(a, 'kms:Decrypt')));
    expect(decrypts).toHaveLength(2);
    for (const statement of decrypts) {
      expect(asArray(statement.Action)).toEqual(['kms:Decrypt']);
      expect(statement.Resource).toBe(`arn:aws:kms:${REGION}:${ACCOUNT}:key/*`);
    }
    const conditions = decrypts.map((s) => s.Condition);
    expect(conditions).toEqual(expect.arrayContaining([
      { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` }, StringLike: { 'kms:EncryptionContext:SecretARN': sm('fledge/*') } },
      { StringEquals: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com` }, StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': ssm('fledge/*') } },
    ]));
  });

  it('grants no other secrets, parameters or keys action', () => {
    const actions = execution.flatMap((s) => asArray(s.Action)).filter((a) => /^(secretsmanager|ssm|kms):/.test(a)).sort();
    expect(actions).toEqual(['kms:Decrypt', 'kms:Decrypt', 'secretsmanager:GetSecretValue', 'ssm:GetParameters']);
  });

  it("the applications' own task role gets no secrets, parameters or keys permission at all", () => {
    const actions = task.flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => /^(secretsmanager|ssm|kms):|^\*$/.test(a))).toEqual([]);
  });

  it('follows secretRoot, and secretArnPrefixes narrow it further', () => {
    const narrowed = synthNetwork({ secretRoot: 'previews', secretArnPrefixes: [sm('previews/acme/'), ssm('previews/acme/')] });
    expect(allows(narrowed.execution, 'secretsmanager:GetSecretValue', sm('previews/acme/web/db'))).toBe(true);
    expect(allows(narrowed.execution, 'secretsmanager:GetSecretValue', sm('previews/other/web/db'))).toBe(false);
    expect(allows(narrowed.execution, 'secretsmanager:GetSecretValue', sm('fledge/acme/web/db'))).toBe(false);
    expect(allows(narrowed.execution, 'ssm:GetParameters', ssm('previews/acme/web/db'))).toBe(true);
  });
});

describe('secret settings', () => {
  const read = (context: Record<string, unknown>) => () => readConfig((key) => context[key]);
  it.each([
    [{ secretRoot: 'a/b' }, /secretRoot/],
    [{ secretRoot: 'aws-secrets' }, /secretRoot/],
    [{ secretArnPrefixes: sm('other/acme/') }, /outside the secret namespaces fledge\//],
    [{ account: ACCOUNT, region: REGION, secretArnPrefixes: sm('fledge/acme/', '210987654321') }, /own account and region/],
    [{ secretArnPrefixes: 'arn:aws:secretsmanager:eu-west-1:123456789012:fledge/' }, /not a Secrets Manager/],
  ])('rejects %j', (context, message) => {
    expect(read(context)).toThrow(ConfigError);
    expect(read(context)).toThrow(message);
  });

  it('defaults to the root fledge and no further prefixes', () => {
    expect(readConfig(() => undefined)).toMatchObject({ secretRoot: 'fledge', secretArnPrefixes: [] });
  });
});
