/**
 * docs/security.md, end to end in local mode: nothing internal reaches a caller on failure
 * paths (no ARN, no account id: local mode's account is 000000000000), an environment
 * references only its repository's secrets and runs only its repository's images of the
 * account's ECR, and the front answers only loopback Host names.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isStatus, useLocalServer, type Answer } from './local-api.ts';

const { api, page, server, waitFor } = useLocalServer();
const ACCOUNT = '000000000000';
/** An ARN, or an account id standing alone (12 digits not inside a longer number or a hex id). */
const INTERNAL = /arn:|(?<![A-Za-z0-9.])\d{12}(?![A-Za-z0-9])/;

/** A request with a Host header of our choosing (fetch() forbids setting it). */
function withHost(method: string, path: string, host: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port: server().port, method, path, headers: { host, ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}) } },
      (res) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: data }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

const expectPlain = (what: string, text: string) => expect([what, INTERNAL.exec(text)?.[0] ?? null]).toEqual([what, null]);

describe('what reaches callers when things fail', () => {
  it('a create that fails (image pull, health checks) answers codes and plain words on every route and its page', async () => {
    for (const name of ['sec-pull', 'sec-health']) {
      const image = name === 'sec-pull' ? 'nginx:fail-pull' : 'nginx:fail-health';
      expect((await api('PUT', `/v1/environments/${name}`, { body: { image, labels: { repository: 'acme/web' } } })).status).toBe(201);
    }
    const pull = await waitFor('sec-pull', isStatus('FAILED'), 90_000);
    const health = await waitFor('sec-health', isStatus('FAILED'), 90_000);
    expect(pull.operation.error.code).toBe('IMAGE_PULL_FAILED');
    expect(health.operation.error.code).toBe('HEALTH_CHECK_FAILED');
    // the useful part of ECS's reason stays: the target group, by name
    expect(health.operation.error.message).toMatch(/ELB health checks in \(target-group targetgroup\/local-sec-health-/);

    const answers: [string, Answer | { text: string }][] = [];
    for (const name of ['sec-pull', 'sec-health']) {
      answers.push([`GET ${name}`, await api('GET', `/v1/environments/${name}`)]);
      answers.push([`events ${name}`, await api('GET', `/v1/environments/${name}/events?limit=100`)]);
      answers.push([`logs ${name}`, await api('GET', `/v1/environments/${name}/logs?limit=1000`)]);
      answers.push([`scale ${name} (409)`, await api('POST', `/v1/environments/${name}/scale`, { body: { desiredCount: 2 } })]);
      answers.push([`heal ${name} (409)`, await api('POST', `/v1/environments/${name}/heal`, { headers: { 'content-type': 'application/json' } })]);
      answers.push([`page ${name}`, await page(name)]);
    }
    answers.push(['list', await api('GET', '/v1/environments?limit=100')]);
    answers.push(['404', await api('GET', '/v1/environments/sec-nope')]);
    answers.push(['400', await api('PUT', '/v1/environments/sec-bad', { body: { image: 'nginx', secrets: { DB: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:fledge/other/repo/db` } } })]);
    for (const [what, answer] of answers) expectPlain(what, answer.text);
    // the failures were really told: events name them, pages show the status (the waker's page: test/unit/events/waker.test.ts)
    expect(answers.find(([what]) => what === 'events sec-health')![1].text).toContain('HEALTH_CHECK_FAILED');
    expect(answers.find(([what]) => what === 'page sec-pull')![1].text).toContain('FAILED');
    // the health-check failure's tasks wrote their warning; an image that cannot be pulled writes nothing (as on AWS)
    expect(answers.find(([what]) => what === 'logs sec-health')![1].text).toContain('the health check answers 503');
    expect((answers.find(([what]) => what === 'logs sec-pull')![1] as Answer).body).toEqual({ items: [] });
  }, 180_000);
});

describe('secrets per repository', () => {
  const secret = (name: string, account = ACCOUNT) => `arn:aws:secretsmanager:eu-west-1:${account}:secret:${name}`;

  it("refuses repository B's secret, another account's and a malformed one for repository A (400 naming the field, nothing created); accepts its own", async () => {
    for (const arn of [secret('fledge/acme/billing/db-AbCdEf'), secret('fledge/acme/web/db-AbCdEf', '111122223333'), 'arn:aws:secretsmanager:eu-west-1:000000000000:fledge/acme/web/db']) {
      const refused = await api('PUT', '/v1/environments/sec-secret', { body: { image: 'nginx:1', labels: { repository: 'acme/web' }, secrets: { DB: arn } } });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([expect.objectContaining({ path: 'secrets.DB' })]);
      expect((await api('GET', '/v1/environments/sec-secret')).status).toBe(404);
    }
    const own = await api('PUT', '/v1/environments/sec-secret', { body: { image: 'nginx:1', labels: { repository: 'acme/web' }, secrets: { DB: secret('fledge/acme/web/db-AbCdEf') } } });
    expect(own.status).toBe(201);
    const patched = await api('PATCH', '/v1/environments/sec-secret', { body: { secrets: { OTHER: secret('fledge/acme/billing/key') } } });
    expect(patched.status).toBe(400);
    expect(patched.body.errors).toEqual([expect.objectContaining({ path: 'secrets.OTHER' })]);
    expect((await api('DELETE', '/v1/environments/sec-secret')).status).toBe(202);
  });
});

describe("images of the installation's ECR per repository", () => {
  const ecr = (name: string, account = ACCOUNT) => `${account}.dkr.ecr.eu-west-1.amazonaws.com/${name}`;

  it("refuses repository B's image for repository A, as the app's or a sidecar's (400 naming the field, nothing created); accepts its own and other registries'", async () => {
    const refusals: [Record<string, unknown>, string][] = [
      [{ image: ecr('fledge/acme/billing/app:1'), labels: { repository: 'acme/web' } }, 'image'],
      [{ image: 'nginx:1', labels: { repository: 'acme/web' }, sidecars: [{ name: 'worker', image: ecr('fledge/acme/billing/worker:1') }] }, 'sidecars.0.image'],
      [{ image: ecr('fledge/acme/web/app:1') }, 'image'],
    ];
    for (const [body, field] of refusals) {
      const refused = await api('PUT', '/v1/environments/sec-image', { body });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([expect.objectContaining({ path: field })]);
      expectPlain(`refused ${field}`, refused.text);
      expect((await api('GET', '/v1/environments/sec-image')).status).toBe(404);
    }
    const own = await api('PUT', '/v1/environments/sec-image', { body: { image: ecr('fledge/acme/web/app:1'), labels: { repository: 'acme/web' } } });
    expect(own.status).toBe(201);
    const patched = await api('PATCH', '/v1/environments/sec-image', { body: { image: ecr('fledge/acme/billing/app:2') } });
    expect(patched.status).toBe(400);
    expect(patched.body.errors).toEqual([expect.objectContaining({ path: 'image', message: expect.stringContaining('fledge/acme/web/<name>') })]);
    expect((await api('DELETE', '/v1/environments/sec-image')).status).toBe(202);
    // another account's ECR is not this installation's to judge
    expect((await api('PUT', '/v1/environments/sec-image-other', { body: { image: ecr('fledge/acme/billing/app:1', '111122223333'), labels: { repository: 'acme/web' } } })).status).toBe(201);
    expect((await api('DELETE', '/v1/environments/sec-image-other')).status).toBe(202);
  });
});

describe('the Host allow-list', () => {
  it('refuses Host: evil.example on /v1, /_local/faults and /_local/aws (421), and serves <name>.localhost:<port>', async () => {
    const foreign = [
      await withHost('GET', '/v1/environments', 'evil.example'),
      await withHost('PUT', '/v1/environments/sec-rebind', `evil.example:${server().port}`, { image: 'nginx:1' }),
      await withHost('POST', '/_local/faults', 'evil.example', { fault: 'hostile', enabled: true }),
      await withHost('POST', '/_local/aws', 'evil.example', { service: 'ecs', action: 'ListServices', params: {} }),
      await withHost('GET', '/', `sec-page.localhost.evil.example:${server().port}`),
    ];
    for (const answer of foreign) {
      expect(answer.status).toBe(421);
      expect(JSON.parse(answer.text)).toMatchObject({ status: 421, title: 'Misdirected Request' });
    }
    expect((await api('GET', '/v1/environments/sec-rebind')).status).toBe(404);

    expect((await api('PUT', '/v1/environments/sec-page', { body: { image: 'nginx:1' } })).status).toBe(201);
    await waitFor('sec-page', isStatus('RUNNING'), 60_000);
    const served = await withHost('GET', '/', `sec-page.localhost:${server().port}`);
    expect(served.status).toBe(200);
    expect(served.text).toContain('sec-page');
    expect((await withHost('GET', '/v1/health', `localhost:${server().port}`)).status).toBe(200);
  }, 90_000);
});
