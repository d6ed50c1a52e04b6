/**
 * An environment references only secrets its repository owns (docs/security.md "Secrets"):
 * `secret:<root>/<owner>/<name>/...` or `parameter/<root>/<owner>/<name>/...` in the
 * installation's own account and region. Anything else is a 400 naming `secrets.<NAME>`,
 * and a refused request writes nothing and starts nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handler as postHandler } from '../../../functions/api/create-environment.ts';
import { handler as patchHandler } from '../../../functions/api/patch-environment.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import { mockApiAws, setApiEnvForTest, TEST_ACCOUNT } from '../../support/api-aws.ts';
import { call } from '../../support/api-events.ts';
import { item, record, spec } from '../../support/records.ts';
import { expectRefusedUntouched, githubTokenOf, putPr1 } from '../../support/ownership.ts';

const aws = mockApiAws();
const { dynamodb, sfn } = aws;
const ACCOUNT = TEST_ACCOUNT;
const secret = (name: string, { account = ACCOUNT, region = 'eu-west-1' } = {}) => `arn:aws:secretsmanager:${region}:${account}:secret:${name}`;
const parameter = (name: string) => `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/${name}`;

const put = (body: Record<string, unknown>) => putPr1(body);
// the problem names no account id (the installation's or the one sent)
const expectRefused = (response: Awaited<ReturnType<typeof put>>, field: string, message: RegExp) => expectRefusedUntouched(aws, response, field, message);

beforeEach(() => {
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    FLEDGE_ACCOUNT_ID: ACCOUNT,
    // the operator's secretRepositories: each listed repository has its own execution role
    FLEDGE_SECRET_REPOSITORIES: 'acme/web,acme/billing',
  });
  delete process.env.FLEDGE_SECRET_ROOT;
  delete process.env.FLEDGE_SECRET_ARN_PREFIXES;
  delete process.env.FLEDGE_PARTITION;
  delete process.env.FLEDGE_LOCAL_MODE;
});

describe('secrets an environment may reference', () => {
  it("accepts its own repository's Secrets Manager secrets and SSM parameters", async () => {
    const response = await put({
      labels: { repository: 'acme/web' },
      secrets: { DB: secret('fledge/acme/web/db-AbCdEf'), API_KEY: parameter('fledge/acme/web/api-key'), JSON_KEY: secret('fledge/acme/web/app-AbCdEf:password::') },
    });
    expect(response.status).toBe(201);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it("refuses repository B's secret for repository A: 400 naming the field", async () => {
    expectRefused(await put({ labels: { repository: 'acme/web' }, secrets: { DB: secret('fledge/acme/billing/db-AbCdEf') } }), 'secrets.DB', /repository "acme\/web".*fledge\/acme\/web\//);
  });

  it("a sidecar's secrets follow the same rules: B's secret in A's sidecar is a 400 naming sidecars.<i>.secrets.<NAME>", async () => {
    const sidecar = (arn: string) => ({ name: 'db', image: 'postgres:16', port: 5432, secrets: { POSTGRES_PASSWORD: arn } });
    expectRefused(await put({ labels: { repository: 'acme/web' }, sidecars: [sidecar(secret('fledge/acme/billing/db-AbCdEf'))] }), 'sidecars.0.secrets.POSTGRES_PASSWORD', /repository "acme\/web"/);
    expect((await put({ labels: { repository: 'acme/web' }, sidecars: [sidecar(secret('fledge/acme/web/db-AbCdEf'))] })).status).toBe(201);
  });

  it('refuses a namespace that merely starts like its own (acme/web-evil is not acme/web)', async () => {
    expectRefused(await put({ labels: { repository: 'acme/web' }, secrets: { DB: parameter('fledge/acme/web-evil/db') } }), 'secrets.DB', /repository "acme\/web"/);
  });

  it("refuses another account's or another region's secret, even in the repository's namespace", async () => {
    expectRefused(await put({ labels: { repository: 'acme/web' }, secrets: { DB: secret('fledge/acme/web/db', { account: '210987654321' }) } }), 'secrets.DB', /own AWS account and region/);
    expectRefused(await put({ labels: { repository: 'acme/web' }, secrets: { DB: secret('fledge/acme/web/db', { region: 'us-east-1' }) } }), 'secrets.DB', /own AWS account and region/);
  });

  it.each([
    ['not an ARN', 'fledge/acme/web/db'],
    ['another service', `arn:aws:s3:::fledge/acme/web/db`],
    ['no name', secret('')],
    ['a dot-dot segment', parameter('fledge/acme/web/../billing/db')],
    ['a space', secret('fledge/acme/web/d b')],
    ['a Secrets Manager ARN without secret:', `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:fledge/acme/web/db`],
  ])('refuses a malformed secret ARN (%s)', async (_case, arn) => {
    const response = await put({ labels: { repository: 'acme/web' }, secrets: { DB: arn } });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'secrets.DB' })]);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('an environment without labels.repository (or with one that is not owner/name) references no secret', async () => {
    expectRefused(await put({ secrets: { DB: secret('fledge/acme/web/db') } }), 'secrets.DB', /set labels.repository/);
    // `acme` would otherwise own every acme/* repository's namespace
    expectRefused(await put({ labels: { repository: 'acme' }, secrets: { DB: secret('fledge/acme/web/db') } }), 'secrets.DB', /set labels.repository/);
    expect((await put({ labels: { branch: 'main' } })).status).toBe(201);
  });

  it("checks the repository a GitHub token's caller is given when it leaves labels.repository out", async () => {
    setApiEnvForTest('FLEDGE_OIDC_OWNERS', 'acme');
    const asWeb = (secrets: Record<string, string>) => putPr1({ secrets }, githubTokenOf('acme/web'));
    const own = await asWeb({ DB: secret('fledge/acme/web/db') });
    expect(own.status).toBe(201);
    expect(own.body.labels.repository).toBe('acme/web');
    dynamodb.resetHistory();
    sfn.resetHistory();
    expectRefused(await asWeb({ DB: secret('fledge/acme/api/db') }), 'secrets.DB', /.+/);
  });

  it('names every refused secret, not just the first', async () => {
    const response = await put({ labels: { repository: 'acme/web' }, secrets: { A: secret('fledge/other/repo/a'), OK: secret('fledge/acme/web/ok'), B: parameter('other/b') } });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { path: string }) => e.path)).toEqual(['secrets.A', 'secrets.B']);
  });

  it('POST and PATCH are checked the same way; a PATCH that adds B\'s secret changes nothing', async () => {
    const post = await call(postHandler, { method: 'POST', path: '/v1/environments', body: { name: 'pr-2', image: 'web', labels: { repository: 'acme/web' }, secrets: { DB: secret('fledge/acme/billing/db') } } });
    expect(post.status).toBe(400);
    expect(post.body.errors).toEqual([expect.objectContaining({ path: 'secrets.DB' })]);

    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(record({ spec: spec({ labels: { repository: 'acme/web' } }) })) });
    const patch = await call(patchHandler, { method: 'PATCH', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { secrets: { DB: secret('fledge/acme/billing/db') } } });
    expect(patch.status).toBe(400);
    expect(patch.body.errors).toEqual([expect.objectContaining({ path: 'secrets.DB' })]);
    const own = await call(patchHandler, { method: 'PATCH', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { secrets: { DB: secret('fledge/acme/web/db') } } });
    expect(own.status).toBe(202);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it("follows the operator's root and further narrows to secretArnPrefixes", async () => {
    process.env.FLEDGE_SECRET_ROOT = 'previews';
    process.env.FLEDGE_SECRET_ARN_PREFIXES = `${secret('previews/acme/web/app-')}*`;
    resetConfig();
    expectRefused(await put({ labels: { repository: 'acme/web' }, secrets: { DB: secret('fledge/acme/web/db') } }), 'secrets.DB', /previews\/acme\/web\//);
    expectRefused(await put({ labels: { repository: 'acme/web' }, secrets: { DB: secret('previews/acme/web/db') } }), 'secrets.DB', /secretArnPrefixes/);
    expect((await put({ labels: { repository: 'acme/web' }, secrets: { DB: secret('previews/acme/web/app-db') } })).status).toBe(201);
  });

  it('accepts no secret while the installation does not know its account', async () => {
    delete process.env.FLEDGE_ACCOUNT_ID;
    resetConfig();
    expectRefused(await put({ labels: { repository: 'acme/web' }, secrets: { DB: secret('fledge/acme/web/db') } }), 'secrets.DB', /FLEDGE_ACCOUNT_ID/);
  });
});

describe('only the repositories the operator lists in secretRepositories use secrets', () => {
  it('refuses any secret, even its own, for a repository not listed: 400 naming the field and the setting', async () => {
    expectRefused(
      await put({ labels: { repository: 'acme/unlisted' }, secrets: { DB: secret('fledge/acme/unlisted/db-AbCdEf') } }),
      'secrets.DB',
      /repository "acme\/unlisted" may not use secrets.*secretRepositories/,
    );
    // the same environment without secrets is fine
    expect((await put({ labels: { repository: 'acme/unlisted' } })).status).toBe(201);
  });

  it('accepts the secrets of each listed repository, for that repository', async () => {
    expect((await put({ labels: { repository: 'acme/billing' }, secrets: { DB: secret('fledge/acme/billing/db-AbCdEf') } })).status).toBe(201);
    expect((await put({ labels: { repository: 'acme/web' }, secrets: { DB: parameter('fledge/acme/web/db') } })).status).toBe(201);
  });

  it('on AWS an unset list lets no repository use secrets', async () => {
    delete process.env.FLEDGE_SECRET_REPOSITORIES;
    resetConfig();
    expectRefused(await put({ labels: { repository: 'acme/web' }, secrets: { DB: secret('fledge/acme/web/db') } }), 'secrets.DB', /secretRepositories/);
  });

  it('in local mode an unset list means every repository (the simulator checks no IAM role), a set one still limits', async () => {
    delete process.env.FLEDGE_SECRET_REPOSITORIES;
    process.env.FLEDGE_LOCAL_MODE = 'true';
    resetConfig();
    expect((await put({ labels: { repository: 'acme/unlisted' }, secrets: { DB: secret('fledge/acme/unlisted/db') } })).status).toBe(201);
    process.env.FLEDGE_SECRET_REPOSITORIES = 'acme/web';
    resetConfig();
    dynamodb.resetHistory();
    sfn.resetHistory();
    expectRefused(await put({ labels: { repository: 'acme/unlisted' }, secrets: { DB: secret('fledge/acme/unlisted/db') } }), 'secrets.DB', /secretRepositories/);
    delete process.env.FLEDGE_SECRET_REPOSITORIES;
    delete process.env.FLEDGE_LOCAL_MODE;
  });
});
