/**
 * An environment runs only images of the installation's own ECR registry that its repository owns
 * (docs/security.md "Images"): ECR repositories named `<root>/<owner>/<name>/...`, lower case.
 * Anything else of that registry is a 400 naming `image` or `sidecars.<i>.image`, and a refused
 * request writes nothing and starts nothing. Other registries are not judged.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { handler as postHandler } from '../../../functions/api/create-environment.ts';
import { handler as patchHandler } from '../../../functions/api/patch-environment.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import { mockApiAws, setApiEnvForTest, TEST_ACCOUNT } from '../../support/api-aws.ts';
import { call } from '../../support/api-events.ts';
import { item, record, spec } from '../../support/records.ts';
import { expectRefusedUntouched, githubTokenOf, putPr1 } from '../../support/ownership.ts';

const aws = mockApiAws();
const { dynamodb } = aws;
const ecr = (name: string, account = TEST_ACCOUNT) => `${account}.dkr.ecr.eu-west-1.amazonaws.com/${name}`;

const put = (body: Record<string, unknown>) => putPr1(body);
// the problem names no account id (the installation's, sent in the image's host, is not echoed)
const expectRefused = (response: Awaited<ReturnType<typeof put>>, field: string, message: RegExp) => expectRefusedUntouched(aws, response, field, message);

beforeEach(() => {
  Object.assign(process.env, { AWS_REGION: 'eu-west-1', FLEDGE_ACCOUNT_ID: TEST_ACCOUNT });
  delete process.env.FLEDGE_SECRET_ROOT;
  delete process.env.FLEDGE_LOCAL_MODE;
  resetConfig();
});

describe("images of the installation's ECR registry an environment may run", () => {
  it("refuses repository B's image for repository A: 400 naming `image` and the namespace expected", async () => {
    expectRefused(await put({ labels: { repository: 'acme/web' }, image: ecr('fledge/acme/billing/app:1') }), 'image', /repository "acme\/web".*fledge\/acme\/web\/<name>/);
  });

  it("accepts A's own namespace, in lower case whatever the case of labels.repository", async () => {
    expect((await put({ labels: { repository: 'acme/web' }, image: ecr('fledge/acme/web/app:pr-42') })).status).toBe(201);
    expect((await put({ labels: { repository: 'Acme/Web' }, image: ecr('fledge/acme/web/app:pr-43') })).status).toBe(201);
  });

  it("accepts public images and other accounts' ECR images, which this installation's roles are not granted", async () => {
    for (const image of ['nginx:1', 'ghcr.io/acme/billing:1', 'public.ecr.aws/nginx/nginx:1', ecr('fledge/acme/billing/app:1', '210987654321')]) {
      expect((await put({ labels: { repository: 'acme/web' }, image })).status, image).toBe(201);
    }
  });

  it("refuses B's image in A's sidecar: 400 naming sidecars.<i>.image", async () => {
    const sidecars = [{ name: 'cache', image: 'redis:7', port: 6379 }, { name: 'worker', image: ecr('fledge/acme/billing/worker:1') }];
    expectRefused(await put({ labels: { repository: 'acme/web' }, sidecars }), 'sidecars.1.image', /repository "acme\/web"/);
    const own = [{ name: 'cache', image: 'redis:7', port: 6379 }, { name: 'worker', image: ecr('fledge/acme/web/worker:1') }];
    expect((await put({ labels: { repository: 'acme/web' }, sidecars: own })).status).toBe(201);
  });

  it("refuses every image of the account's ECR to an environment without labels.repository", async () => {
    expectRefused(await put({ image: ecr('fledge/acme/web/app:1') }), 'image', /set labels.repository/);
  });

  it('refuses a repository whose GitHub name ECR cannot express, saying so', async () => {
    expectRefused(await put({ labels: { repository: 'acme/.github' }, image: ecr('fledge/acme/github/app:1') }), 'image', /owns no ECR namespace/);
  });

  it("POST and PATCH are checked the same way; a PATCH to B's image changes nothing (an existing environment is refused at its next update)", async () => {
    const post = await call(postHandler, { method: 'POST', path: '/v1/environments', body: { name: 'pr-2', image: ecr('fledge/acme/billing/app:1'), labels: { repository: 'acme/web' } } });
    expect(post.status).toBe(400);
    expect(post.body.errors).toEqual([expect.objectContaining({ path: 'image' })]);

    // an environment created before the rule, running B's image: its next update is refused until it moves
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(record({ spec: spec({ image: ecr('fledge/acme/billing/app:1'), labels: { repository: 'acme/web' } }) })) });
    const patch = await call(patchHandler, { method: 'PATCH', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { environment: { A: '1' } } });
    expect(patch.status).toBe(400);
    expect(patch.body.errors).toEqual([expect.objectContaining({ path: 'image' })]);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    const moved = await call(patchHandler, { method: 'PATCH', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { image: ecr('fledge/acme/web/app:2') } });
    expect(moved.status).toBe(202);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it("judges the repository a GitHub token's caller is given when it leaves labels.repository out", async () => {
    setApiEnvForTest('FLEDGE_OIDC_OWNERS', 'acme');
    const asWeb = (image: string) => putPr1({ image }, githubTokenOf('acme/web'));
    expectRefused(await asWeb(ecr('fledge/acme/billing/app:1')), 'image', /repository "acme\/web"/);
    const own = await asWeb(ecr('fledge/acme/web/app:1'));
    expect(own.status).toBe(201);
    expect(own.body.labels.repository).toBe('acme/web');
  });

  it("follows the operator's root (FLEDGE_SECRET_ROOT), lowered", async () => {
    setApiEnvForTest('FLEDGE_SECRET_ROOT', 'Previews');
    expectRefused(await put({ labels: { repository: 'acme/web' }, image: ecr('fledge/acme/web/app:1') }), 'image', /previews\/acme\/web\/<name>/);
    expect((await put({ labels: { repository: 'acme/web' }, image: ecr('previews/acme/web/app:1') })).status).toBe(201);
  });
});
