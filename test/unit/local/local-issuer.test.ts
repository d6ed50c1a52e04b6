/**
 * The token check of `npm start -- --auth oidc` against API Gateway's JWT authorizer rules
 * (API Gateway Developer Guide, "Control access to HTTP APIs with JWT authorizers"): the
 * cases a token from POST /_local/token cannot make (test/e2e/auth.test.ts drives the rest).
 */
import { generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { claimString, createLocalIssuer, InvalidTokenRequest, localOwnerId, parseTokenRequest, type LocalIssuer } from '../../../infra/local/local-issuer.ts';

const ISSUER = 'http://127.0.0.1:4000/_local/issuer';
let issuer: LocalIssuer;
let privateKey: CryptoKey;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  const keys = await generateKeyPair('RS256');
  privateKey = keys.privateKey;
  issuer = await createLocalIssuer({ issuer: ISSUER, audiences: ['fledge', 'ci'], keys: { ...keys, kid: 'key-1' } });
});

const sign = (claims: JWTPayload, header: Record<string, unknown> = {}) =>
  new SignJWT({ iss: ISSUER, aud: 'fledge', sub: 'repo:acme/web:ref:refs/heads/main', repository: 'acme/web', iat: now(), nbf: now(), exp: now() + 60, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'key-1', ...header })
    .sign(privateKey);

describe('the local JWT check', () => {
  it('accepts a good token and hands over its claims as strings', async () => {
    const verdict = await issuer.verify(`Bearer ${await sign({ aud: ['other', 'ci'], run_number: 7, flag: true })}`);
    expect(verdict).toMatchObject({ ok: true, claims: { aud: '[other ci]', run_number: '7', flag: 'true', repository: 'acme/web' } });
  });

  it('checks client_id only when there is no aud', async () => {
    expect((await issuer.verify(await sign({ aud: undefined, client_id: 'fledge' }))).ok).toBe(true);
    expect(await issuer.verify(await sign({ aud: 'other', client_id: 'fledge' }))).toEqual({ ok: false, description: 'the token does not have a valid audience' });
    expect((await issuer.verify(await sign({ aud: undefined }))).ok).toBe(false);
  });

  it('refuses a token not yet valid, issued in the future, without exp, or without the published kid', async () => {
    expect(await issuer.verify(await sign({ nbf: now() + 120 }))).toEqual({ ok: false, description: 'the token is not valid yet' });
    expect(await issuer.verify(await sign({ iat: now() + 120 }))).toEqual({ ok: false, description: 'the token was issued in the future' });
    expect((await issuer.verify(await sign({ exp: undefined }))).ok).toBe(false);
    expect((await issuer.verify(await sign({}, { kid: undefined }))).ok).toBe(false);
    expect((await issuer.verify(await sign({}, { kid: 'key-2' }))).ok).toBe(false);
  });

  it('treats a missing or empty header as no token (no www-authenticate description)', async () => {
    expect(await issuer.verify(undefined)).toEqual({ ok: false });
    expect(await issuer.verify('  ')).toEqual({ ok: false });
    expect(await issuer.verify('Bearer ')).toMatchObject({ ok: false, description: expect.any(String) });
  });

  it('publishes only the public key', () => {
    const [key] = issuer.jwks().keys;
    expect(key).toMatchObject({ kty: 'RSA', kid: 'key-1', alg: 'RS256', use: 'sig' });
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(secret);
  });
});

describe('POST /_local/token body', () => {
  it('needs a repository (owner/name) unless it asks for an operator, and knows its fields', () => {
    expect(parseTokenRequest({ repository: 'acme/web', expiresIn: 60 })).toMatchObject({ repository: 'acme/web', expiresIn: 60 });
    expect(parseTokenRequest({ operator: true })).toMatchObject({ operator: true });
    expect(() => parseTokenRequest({})).toThrow(/required/);
    expect(() => parseTokenRequest({ repository: 'web' })).toThrow(/owner\/name/);
    expect(() => parseTokenRequest({ repository: 'acme/web', expiresIn: 1.5 })).toThrow(/integer/);
    expect(() => parseTokenRequest({ repository: 'acme/web', admin: true })).toThrow(/unknown field/);
    expect(() => parseTokenRequest([])).toThrow(/object/);
  });

  it('gives tokens GitHub\'s owner claims: a stand-in owner id, stable and case-insensitive, or the one asked for', async () => {
    expect(localOwnerId('acme')).toMatch(/^\d+$/);
    expect(localOwnerId('ACME')).toBe(localOwnerId('acme'));
    expect(localOwnerId('acme-labs')).not.toBe(localOwnerId('acme'));
    expect((await issuer.issue(parseTokenRequest({ repository: 'Acme/web' }))).claims).toMatchObject({ repository_owner: 'Acme', repository_owner_id: localOwnerId('acme') });
    expect((await issuer.issue(parseTokenRequest({ repository: 'acme2/web', repositoryOwnerId: '42' }))).claims).toMatchObject({ repository_owner: 'acme2', repository_owner_id: '42' });
    expect(() => parseTokenRequest({ repository: 'acme/web', repositoryOwnerId: 42 })).toThrow(/digits/);
    expect(() => parseTokenRequest({ repository: 'acme/web', repositoryOwnerId: 'acme' })).toThrow(/digits/);
    expect(() => parseTokenRequest({ operator: true, repositoryOwnerId: '42' })).toThrow(/needs a repository/);
  });

  it('gives tokens GitHub\'s event_name claim: push unless another event is asked for, spelled as GitHub does', async () => {
    expect((await issuer.issue(parseTokenRequest({ repository: 'acme/web' }))).claims).toMatchObject({ event_name: 'push' });
    expect((await issuer.issue(parseTokenRequest({ repository: 'acme/web', eventName: 'pull_request_target' }))).claims).toMatchObject({ event_name: 'pull_request_target' });
    // operator tokens carry it too (the refused events apply to them as well)
    expect((await issuer.issue(parseTokenRequest({ operator: true, eventName: 'workflow_run' }))).claims).toMatchObject({ sub: 'fledge-local:operator', event_name: 'workflow_run' });
    const verdict = await issuer.verify(`Bearer ${(await issuer.issue(parseTokenRequest({ repository: 'acme/web', eventName: 'workflow_dispatch' }))).token}`);
    expect(verdict).toMatchObject({ ok: true, claims: { event_name: 'workflow_dispatch' } });
    expect(issuer.discovery().claims_supported).toContain('event_name');
    for (const eventName of ['', 'Push', 'pull-request', 'push ', 'x'.repeat(65), 42, null]) {
      const refused = (() => {
        try {
          parseTokenRequest({ repository: 'acme/web', eventName });
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refused, JSON.stringify(eventName)).toBeInstanceOf(InvalidTokenRequest);
      expect(refused).toMatchObject({ path: 'eventName', message: expect.stringContaining('GitHub event name') });
    }
  });

  it('formats claims as API Gateway passes them', () => {
    expect(claimString('x')).toBe('x');
    expect(claimString(['a', 'b'])).toBe('[a b]');
    expect(claimString(12)).toBe('12');
    expect(claimString({ a: 1 })).toBe('{"a":1}');
  });
});
