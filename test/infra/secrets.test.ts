/**
 * Secrets per repository, on the IAM side (docs/security.md "Secrets"): each repository the
 * operator lists in `secretRepositories` has its own task execution role, which reads only its
 * namespace (`secret:<root>/<owner>/<name>/*`, `parameter/<root>/<owner>/<name>/*` of the stack's
 * account and region) and decrypts only through those services for those secrets; the shared
 * execution role and the applications' own task role read no secret at all. Synthesizes the
 * Network construct alone (no Lambda bundling) and evaluates its policies against candidate ARNs.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../infra/aws/config.ts';
import { Network } from '../../infra/aws/network.ts';
import { secretExecutionRoleKey, secretExecutionRoleName } from '../../functions/domain/execution-roles.ts';
import { synthFledge } from './synth-fledge.ts';

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
  const network = new Network(stack, 'Network', { config: readConfig((key) => context[key]), logRetention: logs.RetentionDays.ONE_MONTH, installationId: 'acme1' });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const statementsOf = (roleId: string): Statement[] =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && asArray(r.Properties.Roles).some((ref: Json) => ref?.Ref === roleId))
      .flatMap((r) => resolve(r.Properties.PolicyDocument.Statement) as Statement[]);
  const roleId = (role: unknown) => stack.getLogicalId((role as { node: { defaultChild: never } }).node.defaultChild);
  const repositoryRoles = Object.fromEntries(Object.entries(network.secretExecutionRoles).map(([repository, role]) => [repository, {
    statements: statementsOf(roleId(role)),
    properties: resources[roleId(role)]!.Properties,
  }]));
  return { execution: statementsOf(roleId(network.executionRole)), task: statementsOf(roleId(network.taskRole)), repositoryRoles };
}

/** Whether an unconditional Allow grants `action` on `arn` (conditional statements are judged apart). */
function allows(statements: Statement[], action: string, arn: string): boolean {
  return statements.some(
    (s) => s.Effect === 'Allow' && !s.Condition && asArray(s.Action).some((a) => glob(a, action)) && asArray(s.Resource).some((r: string) => glob(r, arn)),
  );
}

const sm = (name: string, account = ACCOUNT, region = REGION) => `arn:aws:secretsmanager:${region}:${account}:secret:${name}`;
const ssm = (name: string, account = ACCOUNT, region = REGION) => `arn:aws:ssm:${region}:${account}:parameter/${name}`;

const A = 'acme/web';
const B = 'acme/billing';
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => asArray(s.Action)).filter((a) => /^(secretsmanager|ssm|kms):|^\*$/.test(a)).sort();

describe("a listed repository's execution role and secrets", () => {
  const { execution, task, repositoryRoles } = synthNetwork({ secretRepositories: [A, B] });
  const a = repositoryRoles[A]!.statements;
  const b = repositoryRoles[B]!.statements;

  it('exists once per listed repository, named fledge-<installation>-sec-<hash>-<region>, assumed by ECS tasks only', () => {
    expect(Object.keys(repositoryRoles).sort()).toEqual([B, A]);
    expect(repositoryRoles[A]!.properties.RoleName).toBe(secretExecutionRoleName('acme1', A, REGION));
    expect(repositoryRoles[A]!.properties.RoleName).toMatch(new RegExp(`^fledge-acme1-sec-[0-9a-f]{16}-${REGION}$`));
    expect(repositoryRoles[A]!.properties.RoleName).not.toBe(repositoryRoles[B]!.properties.RoleName);
    expect(repositoryRoles[A]!.properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' } },
    ]);
  });

  it("A's role reads A's namespace, in its own account and region", () => {
    expect(allows(a, 'secretsmanager:GetSecretValue', sm('fledge/acme/web/db-AbCdEf'))).toBe(true);
    expect(allows(a, 'secretsmanager:GetSecretValue', sm('fledge/acme/web/team/db-AbCdEf'))).toBe(true);
    expect(allows(a, 'ssm:GetParameters', ssm('fledge/acme/web/api-key'))).toBe(true);
    expect(allows(b, 'secretsmanager:GetSecretValue', sm('fledge/acme/billing/db-AbCdEf'))).toBe(true);
  });

  it.each([
    ["B's secret", 'secretsmanager:GetSecretValue', sm('fledge/acme/billing/db-AbCdEf')],
    ["B's parameter", 'ssm:GetParameters', ssm('fledge/acme/billing/api-key')],
    ['a namespace that only starts alike (acme/web-evil)', 'secretsmanager:GetSecretValue', sm('fledge/acme/web-evil/db')],
    ["the owner's namespace above the repository", 'secretsmanager:GetSecretValue', sm('fledge/acme/db')],
    ['a secret outside the root', 'secretsmanager:GetSecretValue', sm('prod/db-AbCdEf')],
    ['a root that only starts alike', 'secretsmanager:GetSecretValue', sm('fledgex/acme/web/db')],
    ["another account's secret", 'secretsmanager:GetSecretValue', sm('fledge/acme/web/db', '210987654321')],
    ["another region's secret", 'secretsmanager:GetSecretValue', sm('fledge/acme/web/db', ACCOUNT, 'us-east-1')],
    ['a parameter outside the root', 'ssm:GetParameters', ssm('prod/db')],
    ["another account's parameter", 'ssm:GetParameters', ssm('fledge/acme/web/db', '210987654321')],
    ['a parameter by another action', 'ssm:GetParametersByPath', ssm('fledge/acme/web')],
    ['any secret by a listing action', 'secretsmanager:ListSecrets', '*'],
  ])("A's role cannot read %s", (_case, action, arn) => {
    expect(allows(a, action, arn)).toBe(false);
  });

  it("B's role cannot read A's secrets either", () => {
    expect(allows(b, 'secretsmanager:GetSecretValue', sm('fledge/acme/web/db-AbCdEf'))).toBe(false);
    expect(allows(b, 'ssm:GetParameters', ssm('fledge/acme/web/api-key'))).toBe(false);
  });

  it("decrypts only through Secrets Manager or SSM, and only for a secret of its own repository", () => {
    const decrypts = a.filter((s) => asArray(s.Action).some((action) => glob(action, 'kms:Decrypt')));
    expect(decrypts).toHaveLength(2);
    for (const statement of decrypts) {
      expect(asArray(statement.Action)).toEqual(['kms:Decrypt']);
      expect(statement.Resource).toBe(`arn:aws:kms:${REGION}:${ACCOUNT}:key/*`);
    }
    expect(decrypts.map((s) => s.Condition)).toEqual(expect.arrayContaining([
      { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` }, StringLike: { 'kms:EncryptionContext:SecretARN': sm('fledge/acme/web/*') } },
      { StringEquals: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com` }, StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': ssm('fledge/acme/web/*') } },
    ]));
    // B's secret ARN does not match A's encryption context condition
    const context = decrypts.map((s) => Object.values(s.Condition!.StringLike!)[0] as string);
    expect(context.some((pattern) => glob(pattern, sm('fledge/acme/billing/db-AbCdEf')))).toBe(false);
  });

  it('grants no other secrets, parameters or keys action', () => {
    expect(actionsOf(a)).toEqual(['kms:Decrypt', 'kms:Decrypt', 'secretsmanager:GetSecretValue', 'ssm:GetParameters']);
  });

  it('pulls images and writes logs like the shared role', () => {
    for (const action of ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'logs:PutLogEvents']) {
      expect(a.some((s) => asArray(s.Action).includes(action))).toBe(true);
      expect(execution.some((s) => asArray(s.Action).includes(action))).toBe(true);
    }
  });

  // docs/security.md "Images": a repository's role pulls only its ECR namespace; the shared role pulls any (the API's image check is its gate)
  const ecrRepository = (name: string, account = ACCOUNT, region = REGION) => `arn:aws:ecr:${region}:${account}:repository/${name}`;
  const pulls = (statements: Statement[], name: string, account?: string, region?: string) =>
    ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'].every((action) => allows(statements, action, ecrRepository(name, account, region)));

  it("A's role pulls only A's ECR namespace (fledge/acme/web/*, lower case)", () => {
    expect(pulls(a, 'fledge/acme/web/app')).toBe(true);
    expect(pulls(a, 'fledge/acme/web/team/app')).toBe(true);
    expect(pulls(b, 'fledge/acme/billing/app')).toBe(true);
    for (const name of ['fledge/acme/billing/app', 'fledge/acme/web-evil/app', 'fledge/acme/app', 'web', 'fledgex/acme/web/app']) {
      expect(allows(a, 'ecr:BatchGetImage', ecrRepository(name)), name).toBe(false);
      expect(allows(a, 'ecr:GetDownloadUrlForLayer', ecrRepository(name)), name).toBe(false);
    }
    expect(pulls(a, 'fledge/acme/web/app', '210987654321')).toBe(false);
    expect(pulls(b, 'fledge/acme/web/app')).toBe(false);
  });

  it('the shared role still pulls every repository of the account\'s ECR, and only of its account and region', () => {
    expect(pulls(execution, 'fledge/acme/billing/app')).toBe(true);
    expect(pulls(execution, 'web')).toBe(true);
    expect(pulls(execution, 'web', '210987654321')).toBe(false);
  });

  it("a repository's namespace follows secretRoot and is lowered; a name ECR cannot express pulls no ECR repository", () => {
    const roles = synthNetwork({ secretRoot: 'Previews', secretRepositories: ['Acme/Web', 'acme/.github'] }).repositoryRoles;
    const web = roles['Acme/Web']!.statements;
    expect(pulls(web, 'previews/acme/web/app')).toBe(true);
    expect(pulls(web, 'fledge/acme/web/app')).toBe(false);
    const github = roles['acme/.github']!.statements;
    expect(github.filter((s) => asArray(s.Action).some((action) => /^ecr:(BatchGetImage|GetDownloadUrlForLayer|BatchCheckLayerAvailability)$/.test(action)))).toEqual([]);
    expect(github.some((s) => asArray(s.Action).includes('ecr:GetAuthorizationToken'))).toBe(true);
  });

  it('the shared execution role reads no secret, parameter or key at all', () => {
    expect(actionsOf(execution)).toEqual([]);
    expect(allows(execution, 'secretsmanager:GetSecretValue', sm('fledge/acme/web/db-AbCdEf'))).toBe(false);
  });

  it("the applications' own task role gets no secrets, parameters or keys permission at all", () => {
    expect(actionsOf(task)).toEqual([]);
  });

  it('no repository listed: no repository role, and still no secret for the shared role', () => {
    const none = synthNetwork();
    expect(none.repositoryRoles).toEqual({});
    expect(actionsOf(none.execution)).toEqual([]);
  });

  it('follows secretRoot, and secretArnPrefixes narrow each repository further', () => {
    const narrowed = synthNetwork({ secretRoot: 'previews', secretRepositories: [A, B], secretArnPrefixes: [sm('previews/acme/web/app-'), ssm('previews/acme/')] });
    const web = narrowed.repositoryRoles[A]!.statements;
    const billing = narrowed.repositoryRoles[B]!.statements;
    expect(allows(web, 'secretsmanager:GetSecretValue', sm('previews/acme/web/app-db'))).toBe(true);
    expect(allows(web, 'secretsmanager:GetSecretValue', sm('previews/acme/web/other'))).toBe(false);
    expect(allows(web, 'secretsmanager:GetSecretValue', sm('fledge/acme/web/app-db'))).toBe(false);
    expect(allows(web, 'ssm:GetParameters', ssm('previews/acme/web/db'))).toBe(true);
    expect(allows(web, 'ssm:GetParameters', ssm('previews/acme/billing/db'))).toBe(false);
    // billing has no Secrets Manager prefix: parameters only
    expect(allows(billing, 'secretsmanager:GetSecretValue', sm('previews/acme/billing/db'))).toBe(false);
    expect(allows(billing, 'ssm:GetParameters', ssm('previews/acme/billing/db'))).toBe(true);
  });

  it('a listed repository with nothing inside secretArnPrefixes is a ConfigError', () => {
    expect(() => synthNetwork({ secretRepositories: ['other/repo'], secretArnPrefixes: [sm('fledge/acme/')] })).toThrow(/secretRepositories: other\/repo owns no secret inside secretArnPrefixes/);
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
    [{ secretRepositories: 'acme' }, /secretRepositories: "acme" is not a repository as owner\/name/],
    [{ secretRepositories: ['acme/web', 'acme/web/extra'] }, /secretRepositories: "acme\/web\/extra"/],
    [{ secretRepositories: ['../web'] }, /secretRepositories/],
  ])('rejects %j', (context, message) => {
    expect(read(context)).toThrow(ConfigError);
    expect(read(context)).toThrow(message);
  });

  it('defaults to the root fledge and no further prefixes', () => {
    expect(readConfig(() => undefined)).toMatchObject({ secretRoot: 'fledge', secretArnPrefixes: [], secretRepositories: [] });
  });

  it('reads secretRepositories as a list (cdk.json) or a comma-separated string (-c), without duplicates', () => {
    expect(readConfig((key) => ({ secretRepositories: ['acme/web', 'acme/billing', 'acme/web'] })[key as 'secretRepositories']).secretRepositories).toEqual(['acme/web', 'acme/billing']);
    expect(readConfig((key) => ({ secretRepositories: 'acme/web, acme/billing' })[key as 'secretRepositories']).secretRepositories).toEqual(['acme/web', 'acme/billing']);
  });
});

describe('an environment-agnostic stack (no region in context)', () => {
  it("names each repository's role with the region it is deployed to (IAM names are account-wide)", () => {
    const synth = synthFledge({ secretRepositories: ['acme/web'] });
    try {
      const resources = synth.template.toJSON().Resources as Record<string, { Type: string; Properties: { RoleName?: unknown } }>;
      const names = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties.RoleName ?? '').includes('-sec-')).map((r) => r.Properties.RoleName);
      const key = secretExecutionRoleKey(synth.stack.installationId, 'acme/web');
      expect(names).toEqual([{ 'Fn::Join': ['', [`${key}-`, { Ref: 'AWS::Region' }]] }]);
    } finally {
      synth.dispose();
    }
  });
});
