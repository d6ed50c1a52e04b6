/**
 * Local mode with real tokens (`npm start -- --auth oidc`): tokens are checked as API
 * Gateway's JWT authorizer checks them, and a repository sees and touches only its own
 * environments (docs/security.md "Callers and tenancy"). One server for the whole file, started
 * as a deployment is configured: FLEDGE_OIDC_OWNERS names one GitHub owner (acme, by its id).
 */
import { generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { localOwnerId } from '../../infra/local/local-issuer.ts';
import { reached, useLocalServer, type Answer } from './local-api.ts';

/** the owner id local tokens of acme carry (a stand-in for GitHub's) */
const ACME_ID = localOwnerId('acme');
const local = useLocalServer({ FLEDGE_OIDC_OWNERS: ACME_ID }, { auth: 'oidc' });

interface Issued {
  token: string;
  claims: Record<string, unknown>;
}

async function issue(request: Record<string, unknown>): Promise<Issued> {
  const answer = await local.api('POST', '/_local/token', { body: request });
  expect(answer.status, answer.text).toBe(200);
  return answer.body as Issued;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function as(token: string) {
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
    local.api(method, path, { ...(body === undefined ? {} : { body }), headers: { ...bearer(token), ...headers } });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectUnauthorized(answer: Answer, description?: RegExp) {
  expect(answer.status).toBe(401);
  expect(answer.body).toEqual({ message: 'Unauthorized' });
  if (description) {
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer scope="" error="invalid_token" error_description="/);
    expect(answer.headers.get('www-authenticate')).toMatch(description);
  }
}

const spec = { image: 'nginx:1.27', port: 80 };

describe('local mode --auth oidc: tokens', () => {
  let good: Issued;
  beforeAll(async () => {
    good = await issue({ repository: 'acme/tokens', actor: 'dev' });
  });

  it('hands out GitHub-like tokens and publishes the key as a JWKS', async () => {
    expect(good.claims).toMatchObject({
      sub: 'repo:acme/tokens:ref:refs/heads/main', repository: 'acme/tokens', repository_owner: 'acme', repository_owner_id: ACME_ID,
      repository_id: expect.stringMatching(/^\d+$/), ref: 'refs/heads/main',
      actor: 'dev', aud: 'fledge', iss: `http://127.0.0.1:${local.server().port}/_local/issuer`,
    });
    for (const claim of ['iat', 'nbf', 'exp', 'jti']) expect(good.claims).toHaveProperty(claim);
    const jwks = await local.api('GET', '/_local/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) })]);
    expect(jwks.body.keys[0]).not.toHaveProperty('d');
    const discovery = await local.api('GET', '/_local/issuer/.well-known/openid-configuration');
    expect(discovery.body).toMatchObject({ issuer: good.claims.iss, jwks_uri: `http://127.0.0.1:${local.server().port}/_local/jwks.json` });
    // a bad token request is a 400 naming the field
    const bad = await local.api('POST', '/_local/token', { body: { actor: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ path: 'repository' })]);
  });

  it('says at startup that tokens are required', () => {
    expect(local.server().output()).toMatch(/auth: OIDC tokens required/);
    expect(local.server().output()).toContain(`"repositoryOwners":"${ACME_ID}"`);
    expect(local.server().output()).toContain('"refusedEvents":"pull_request_target,workflow_run (default)"');
    expect(local.server().output()).not.toMatch(/auth: OFF/);
  });

  it('lets a good token in, with or without the Bearer prefix', async () => {
    expect((await local.api('GET', '/v1/health', { headers: bearer(good.token) })).status).toBe(200);
    expect((await local.api('GET', '/v1/environments', { headers: { authorization: good.token } })).status).toBe(200);
  });

  it('answers 401 as API Gateway does to a missing, expired, wrong-audience, wrong-issuer, unsigned, tampered or foreign-key token', async () => {
    const get = (headers: Record<string, string>) => local.api('GET', '/v1/environments', { headers });
    const missing = await get({});
    expectUnauthorized(missing);
    expect(missing.headers.get('www-authenticate')).toBeNull();

    expectUnauthorized(await get(bearer((await issue({ repository: 'acme/tokens', expiresIn: -60 })).token)), /expired/);
    expectUnauthorized(await get(bearer((await issue({ repository: 'acme/tokens', audience: 'someone-else' })).token)), /audience/);
    expectUnauthorized(await get(bearer((await issue({ repository: 'acme/tokens', issuer: 'https://token.actions.githubusercontent.com' })).token)), /issuer/);

    const [header, payload] = good.token.split('.');
    const decodedHeader = JSON.parse(Buffer.from(header!, 'base64url').toString()) as Record<string, unknown>;
    // alg none: the same claims, unsigned
    expectUnauthorized(await get(bearer(`${b64({ ...decodedHeader, alg: 'none' })}.${payload}.`)), /none/);
    // tampered: another repository in the payload, the original signature
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    expectUnauthorized(await get(bearer(`${header}.${b64({ ...claims, repository: 'acme/other' })}.${good.token.split('.')[2]}`)), /signature/);
    // signed by another key under the same kid
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: String(decodedHeader.kid) }).sign(privateKey);
    expectUnauthorized(await get(bearer(forged)), /signature/);
    // HS256 (the public key used as an HMAC secret): only RS256 is accepted
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: String(decodedHeader.kid) }).sign(new TextEncoder().encode('k'.repeat(32)));
    expectUnauthorized(await get(bearer(hs)), /HS256/);
    expectUnauthorized(await get(bearer('not-a-jwt')));
    // /_local/* stays open
    expect((await local.api('GET', '/_local/resources')).status).toBe(200);
  });
});

describe('local mode --auth oidc: tenancy', () => {
  let a: Issued;
  let b: Issued;
  let operator: Issued;
  let bVersion: number;

  beforeAll(async () => {
    [a, b, operator] = await Promise.all([
      issue({ repository: 'acme/a', actor: 'alice' }),
      issue({ repository: 'acme/b', actor: 'bob', ref: 'refs/heads/feature' }),
      // with an owner allow-list, an operator token names a repository of an allowed owner
      issue({ operator: true, repository: 'acme/platform', actor: 'ops' }),
    ]);
    // B's environment, labels.repository filled in from B's token
    const created = await as(b.token)('PUT', '/v1/environments/tenant-b', spec);
    expect(created.status, created.text).toBe(201);
    expect(created.body.labels).toEqual({ repository: 'acme/b' });
    const running = await reached(() => as(b.token)('GET', '/v1/environments/tenant-b'), (r) => r.body?.status === 'RUNNING', 60_000, 100, 'tenant-b RUNNING');
    bVersion = running.body.version;
  }, 90_000);

  it('repository A cannot read, list, change, scale, heal, delete or read the events or logs of B\'s environment: 404 like an unknown name', async () => {
    const asA = as(a.token);
    const unknown = await asA('GET', '/v1/environments/tenant-nobody');
    expect(unknown.status).toBe(404);
    const attempts: [string, string, unknown?, Record<string, string>?][] = [
      ['GET', '/v1/environments/tenant-b'],
      ['PATCH', '/v1/environments/tenant-b', { desiredCount: 2 }],
      ['PATCH', '/v1/environments/tenant-b', { image: 'nginx:1.26' }, { 'if-match': `"${bVersion}"` }],
      ['POST', '/v1/environments/tenant-b/scale', { desiredCount: 0 }],
      ['POST', '/v1/environments/tenant-b/scale', { desiredCount: 0 }, { 'if-match': '"999"' }],
      ['POST', '/v1/environments/tenant-b/heal', {}],
      ['DELETE', '/v1/environments/tenant-b'],
      ['DELETE', '/v1/environments/tenant-b', undefined, { 'if-match': '"999"' }],
      ['GET', '/v1/environments/tenant-b/events'],
      ['GET', '/v1/environments/tenant-b/logs'],
      ['GET', '/v1/environments/tenant-b/logs?limit=10'],
    ];
    for (const [method, path, body, headers] of attempts) {
      const answer = await asA(method, path, body, headers ?? {});
      expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(404);
      // the same answer as for a name nobody holds (only the name differs)
      expect(answer.body).toEqual({ ...unknown.body, detail: 'no environment named "tenant-b"' });
    }

    // PUT and POST: the name is taken, and that is all A learns
    for (const [method, path, body] of [
      ['PUT', '/v1/environments/tenant-b', spec],
      ['PUT', '/v1/environments/tenant-b', { ...spec, labels: { repository: 'acme/a' } }],
      ['POST', '/v1/environments', { name: 'tenant-b', ...spec }],
    ] as const) {
      const answer = await asA(method, path, body, { 'if-match': '"1"' });
      expect(answer.status, `${method} ${path}`).toBe(409);
      expect(answer.body.detail).toContain('is taken');
      expect(answer.text).not.toMatch(/acme\/b|RUNNING|version|bob/);
      expect(answer.headers.get('etag')).toBeNull();
    }

    // absent from every list A can ask for
    const mine = await asA('GET', '/v1/environments');
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((e: { name: string }) => e.name)).not.toContain('tenant-b');
    const theirs = await asA('GET', '/v1/environments?repository=acme%2Fb');
    // and a cost total of nothing: B's environments cost A nothing, whatever B runs
    expect(theirs.body).toEqual({ items: [], nextCursor: null, cost: { perHour: 0, toDate: 0, currency: 'USD' } });
    const running = await asA('GET', '/v1/environments?status=RUNNING');
    expect(running.body.items.map((e: { name: string }) => e.name)).not.toContain('tenant-b');

    // A cannot create under B's repository either
    const foreign = await asA('PUT', '/v1/environments/tenant-a-foreign', { ...spec, labels: { repository: 'acme/b' } });
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors).toEqual([expect.objectContaining({ path: 'labels.repository' })]);
    expect((await asA('GET', '/v1/environments/tenant-a-foreign')).status).toBe(404);

    // B's environment is untouched
    const after = await as(b.token)('GET', '/v1/environments/tenant-b');
    expect(after.body).toMatchObject({ status: 'RUNNING', version: bVersion, image: 'nginx:1.27', desiredCount: 1 });
    const history = await as(b.token)('GET', '/v1/environments/tenant-b/events');
    expect(history.body.items.map((e: { actor: string }) => e.actor)).not.toContain(a.claims.sub);
  });

  it('A\'s own calls work, and the actor of its events is its token\'s subject', async () => {
    const asA = as(a.token);
    expect((await asA('PUT', '/v1/environments/tenant-a', { ...spec, labels: { repository: 'acme/a', branch: 'main' } })).status).toBe(201);
    await reached(() => asA('GET', '/v1/environments/tenant-a'), (r) => r.body?.status === 'RUNNING', 60_000, 100, 'tenant-a RUNNING');
    expect((await asA('PATCH', '/v1/environments/tenant-a', { environment: { MODE: 'x' } })).status).toBe(202);
    await reached(() => asA('GET', '/v1/environments/tenant-a'), (r) => r.body?.status === 'RUNNING', 60_000, 100, 'tenant-a updated');
    const list = await asA('GET', '/v1/environments');
    expect(list.body.items.map((e: { name: string }) => e.name)).toEqual(['tenant-a']);
    const events = await asA('GET', '/v1/environments/tenant-a/events');
    expect(events.status).toBe(200);
    const requested = events.body.items.filter((e: { type: string }) => e.type.endsWith('-requested'));
    expect(requested.length).toBeGreaterThanOrEqual(2);
    for (const event of requested) expect(event.actor).toBe('repo:acme/a:ref:refs/heads/main');
    expect((await asA('DELETE', '/v1/environments/tenant-a')).status).toBe(202);
  });

  it('a name B deleted can be taken by A, whose history of it starts with its own create', async () => {
    const asB = as(b.token);
    expect((await asB('PUT', '/v1/environments/tenant-reused', spec)).status).toBe(201);
    await reached(() => asB('GET', '/v1/environments/tenant-reused'), (r) => r.body?.status === 'RUNNING', 60_000, 100, 'tenant-reused RUNNING');
    expect((await asB('DELETE', '/v1/environments/tenant-reused')).status).toBe(202);
    await reached(() => asB('GET', '/v1/environments/tenant-reused'), (r) => r.body?.status === 'DELETED', 60_000, 100, 'tenant-reused DELETED');
    // the DELETED record is B's: A still gets a 404 for it, but may take the name
    expect((await as(a.token)('GET', '/v1/environments/tenant-reused')).status).toBe(404);
    const taken = await as(a.token)('PUT', '/v1/environments/tenant-reused', spec);
    expect(taken.status, taken.text).toBe(201);
    expect(taken.body.labels).toEqual({ repository: 'acme/a' });
    const history = await as(a.token)('GET', '/v1/environments/tenant-reused/events');
    expect(history.body.items.length).toBeGreaterThan(0);
    expect(history.body.items.map((e: { actor: string }) => e.actor)).not.toContain(b.claims.sub);
    // B no longer sees it; an operator sees the whole history of the name
    expect((await asB('GET', '/v1/environments/tenant-reused')).status).toBe(404);
    const all = await as(operator.token)('GET', '/v1/environments/tenant-reused/events?limit=100');
    expect(all.body.items.map((e: { actor: string }) => e.actor)).toEqual(expect.arrayContaining([b.claims.sub, a.claims.sub]));
  });

  it('an operator token sees and reaches every repository\'s environments', async () => {
    const asOperator = as(operator.token);
    const all = await asOperator('GET', '/v1/environments');
    expect(all.body.items.map((e: { name: string }) => e.name)).toContain('tenant-b');
    expect((await asOperator('GET', '/v1/environments?repository=acme%2Fb')).body.items.map((e: { name: string }) => e.name)).toEqual(['tenant-b']);
    const read = await asOperator('GET', '/v1/environments/tenant-b');
    expect(read.status).toBe(200);
    const events = await asOperator('GET', '/v1/environments/tenant-b/events');
    expect(events.body.items.some((e: { actor: string }) => e.actor === 'repo:acme/b:ref:refs/heads/feature')).toBe(true);
    expect((await asOperator('GET', '/v1/environments/tenant-b/logs?limit=10')).status).toBe(200);
  });

  it("an operator token changes another repository's environment: scales B's to 2, as its own actor", async () => {
    const asOperator = as(operator.token);
    const scaled = await asOperator('POST', '/v1/environments/tenant-b/scale', { desiredCount: 2 });
    expect(scaled.status, scaled.text).toBe(202);
    // B sees the operator's change on its environment
    const done = await reached(() => as(b.token)('GET', '/v1/environments/tenant-b'), (r) => r.body?.status === 'RUNNING' && r.body?.desiredCount === 2, 60_000, 100, 'tenant-b scaled to 2');
    expect(done.body).toMatchObject({ labels: { repository: 'acme/b' }, desiredCount: 2 });
    const events = await as(b.token)('GET', '/v1/environments/tenant-b/events?limit=100');
    const requested = events.body.items.filter((e: { type: string }) => e.type === 'scale-requested');
    expect(requested.map((e: { actor: string }) => e.actor)).toEqual([operator.claims.sub]);
  });
});

describe('local mode --auth oidc: repository owners (FLEDGE_OIDC_OWNERS)', () => {
  it('refuses every token of another GitHub owner with 403, on every route, and changes nothing', async () => {
    const mallory = await issue({ repository: 'mallory/web', actor: 'mallory' });
    expect(mallory.claims).toMatchObject({ repository_owner: 'mallory', repository_owner_id: localOwnerId('mallory') });
    const malloryOperator = await issue({ repository: 'mallory/web', operator: true });
    const ownerless = await issue({ operator: true });
    const asOperator = as((await issue({ operator: true, repository: 'acme/platform' })).token);
    const names = async () => (await asOperator('GET', '/v1/environments')).body.items.map((e: { name: string }) => e.name).sort();
    const listed = await names();
    const tenantB = (await asOperator('GET', '/v1/environments/tenant-b')).body;

    for (const token of [mallory.token, malloryOperator.token]) {
      const attempts: [string, string, unknown?][] = [
        ['PUT', '/v1/environments/owner-mallory', spec],
        ['POST', '/v1/environments', { name: 'owner-mallory', ...spec }],
        ['PUT', '/v1/environments/owner-mallory', { ...spec, labels: { repository: 'acme/a' } }],
        ['GET', '/v1/environments'],
        ['GET', '/v1/environments/tenant-b'],
        ['PATCH', '/v1/environments/tenant-b', { desiredCount: 2 }],
        ['POST', '/v1/environments/tenant-b/scale', { desiredCount: 0 }],
        ['DELETE', '/v1/environments/tenant-b'],
      ];
      for (const [method, path, body] of attempts) {
        const answer = await as(token)(method, path, body, { 'idempotency-key': `mallory-${method}-${path.length}` });
        expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(403);
        expect(answer.headers.get('content-type')).toMatch(/problem\+json/);
        expect(answer.body).toMatchObject({ title: 'Forbidden', detail: expect.stringContaining('repositories of mallory may not use this installation') });
        expect(answer.text).not.toContain(ACME_ID);
      }
    }
    // an operator token naming no owner at all is refused too (the allow-list is checked first, for every token)
    const refused = await as(ownerless.token)('GET', '/v1/environments');
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('names no repository owner');

    // nothing changed: no environment, no simulated resource, the list and B's environment as before
    expect((await asOperator('GET', '/v1/environments/owner-mallory')).status).toBe(404);
    expect(await names()).toEqual(listed);
    expect((await asOperator('GET', '/v1/environments/tenant-b')).body).toMatchObject({ status: tenantB.status, version: tenantB.version, desiredCount: tenantB.desiredCount });
    const resources = (await local.api('GET', '/_local/resources')).body as { services: { environment?: string }[] };
    expect(resources.services.map((service) => service.environment)).not.toContain('owner-mallory');
  });

  it('lets the allowed owner in by its id, whatever it is called now and however it is spelled', async () => {
    const renamed = await issue({ repository: 'acme-renamed/web', repositoryOwnerId: ACME_ID });
    expect((await as(renamed.token)('GET', '/v1/environments')).status).toBe(200);
    const upper = await issue({ repository: 'ACME/web' });
    expect(upper.claims.repository_owner_id).toBe(ACME_ID);
    expect((await as(upper.token)('GET', '/v1/environments')).status).toBe(200);
    // the old name under another id (someone who took it over) is refused
    const squatter = await issue({ repository: 'acme/web', repositoryOwnerId: '12345' });
    expect((await as(squatter.token)('GET', '/v1/environments')).status).toBe(403);
  });
});

describe('local mode --auth oidc: refused GitHub events (FLEDGE_OIDC_REFUSED_EVENTS unset: pull_request_target, workflow_run)', () => {
  it('a pull_request_target token of an allowed repository gets 403 on PUT and changes nothing', async () => {
    // a fork's pull request runs acme/fork-target's pull_request_target job: GitHub gives it acme/fork-target's token
    const forked = await issue({ repository: 'acme/fork-target', eventName: 'pull_request_target' });
    expect(forked.claims).toMatchObject({ repository: 'acme/fork-target', repository_owner_id: ACME_ID, event_name: 'pull_request_target' });
    const asOperator = as((await issue({ operator: true, repository: 'acme/platform' })).token);
    const names = async () => (await asOperator('GET', '/v1/environments')).body.items.map((e: { name: string }) => e.name).sort();
    const listed = await names();
    const services = async () => ((await local.api('GET', '/_local/resources')).body as { services: unknown[] }).services.length;
    const running = await services();

    const answer = await as(forked.token)('PUT', '/v1/environments/fork-pr-7', { image: 'ghcr.io/fork/evil:1', port: 80 }, { 'idempotency-key': 'fork-pr-7' });
    expect(answer.status, answer.text).toBe(403);
    expect(answer.headers.get('content-type')).toMatch(/problem\+json/);
    expect(answer.body).toMatchObject({ title: 'Forbidden', detail: expect.stringContaining('tokens of "pull_request_target" jobs may not use this installation') });

    // nothing changed: no environment, no simulated service, the list as before
    expect((await asOperator('GET', '/v1/environments/fork-pr-7')).status).toBe(404);
    expect(await names()).toEqual(listed);
    expect(await services()).toBe(running);
    // the same repository's push token (the default event) is let in
    const pushed = await issue({ repository: 'acme/fork-target' });
    expect(pushed.claims.event_name).toBe('push');
    expect((await as(pushed.token)('GET', '/v1/environments/fork-pr-7')).status).toBe(404);
    expect((await as(pushed.token)('GET', '/v1/environments')).status).toBe(200);
  });
});
