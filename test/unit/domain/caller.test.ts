import { describe, expect, it } from 'vitest';
import {
  creationRepository, iamIdentities, iamPrincipal, listScope, matchesPattern, maySee, oidcPrincipal, type AccessPolicy, type Principal,
} from '../../../functions/domain/caller.ts';
import { readAccessPolicy } from '../../../functions/commons/access-config.ts';

const NONE: AccessPolicy = { operators: [], iamRepositories: [] };
const POLICY: AccessPolicy = {
  operators: ['arn:aws:iam::111111111111:role/FledgeAdmin', 'repo:acme/platform:ref:refs/heads/main'],
  iamRepositories: [
    { pattern: 'arn:aws:iam::111111111111:role/ci-web', repositories: ['acme/web'] },
    { pattern: 'arn:aws:iam::111111111111:role/ci-*', repositories: ['acme/shared'] },
    { pattern: 'arn:aws:iam::111111111111:user/builder', repositories: ['acme/api', 'acme/web'] },
  ],
};
const assumed = (role: string, account = '111111111111') => `arn:aws:sts::${account}:assumed-role/${role}/GitHubActions-42`;

describe('matchesPattern', () => {
  it('matches literally, with * for any run of characters (slashes and colons too), case-sensitively', () => {
    expect(matchesPattern('arn:aws:iam::1:role/ci', 'arn:aws:iam::1:role/ci')).toBe(true);
    expect(matchesPattern('arn:aws:iam::1:role/ci', 'arn:aws:iam::1:role/ci2')).toBe(false);
    expect(matchesPattern('arn:aws:iam::1:role/ci-*', 'arn:aws:iam::1:role/ci-web/extra')).toBe(true);
    expect(matchesPattern('repo:acme/*:ref:refs/heads/main', 'repo:acme/web:ref:refs/heads/main')).toBe(true);
    expect(matchesPattern('repo:acme/*:ref:refs/heads/main', 'repo:acme/web:ref:refs/heads/dev')).toBe(false);
    expect(matchesPattern('arn:aws:iam::1:role/CI', 'arn:aws:iam::1:role/ci')).toBe(false);
    // regex characters in a pattern are literal
    expect(matchesPattern('a.b', 'axb')).toBe(false);
    expect(matchesPattern('(x)+', '(x)+')).toBe(true);
  });
});

describe('IAM callers', () => {
  it('knows an assumed-role session by its role ARN too (patterns are written for the role)', () => {
    expect(iamIdentities(assumed('ci-web'))).toEqual([assumed('ci-web'), 'arn:aws:iam::111111111111:role/ci-web']);
    expect(iamIdentities('arn:aws-cn:sts::111111111111:assumed-role/R/s')).toContain('arn:aws-cn:iam::111111111111:role/R');
    expect(iamIdentities('arn:aws:iam::111111111111:user/builder')).toEqual(['arn:aws:iam::111111111111:user/builder']);
  });

  it('are operators when no operator list and no IAM map is configured (backward compatible)', () => {
    expect(iamPrincipal(assumed('anything'), NONE)).toEqual({ kind: 'operator', actor: assumed('anything') });
  });

  it('once configured: operators by pattern, repositories from every matching map entry, nothing for the unmapped', () => {
    expect(iamPrincipal(assumed('FledgeAdmin'), POLICY)).toEqual({ kind: 'operator', actor: assumed('FledgeAdmin') });
    expect(iamPrincipal(assumed('ci-web'), POLICY)).toEqual({ kind: 'repositories', repositories: ['acme/shared', 'acme/web'], actor: assumed('ci-web') });
    expect(iamPrincipal(assumed('ci-api'), POLICY)).toEqual({ kind: 'repositories', repositories: ['acme/shared'], actor: assumed('ci-api') });
    expect(iamPrincipal('arn:aws:iam::111111111111:user/builder', POLICY)).toMatchObject({ repositories: ['acme/api', 'acme/web'] });
    expect(iamPrincipal(assumed('deployer'), POLICY)).toBeUndefined();
    // the same role name in another account is another principal
    expect(iamPrincipal(assumed('ci-web', '222222222222'), POLICY)).toBeUndefined();
    expect(iamPrincipal(assumed('FledgeAdmin', '222222222222'), POLICY)).toBeUndefined();
  });
});

describe('OIDC callers (GitHub Actions claims, as strings)', () => {
  const claims = { sub: 'repo:acme/web:ref:refs/heads/main', repository: 'acme/web', ref: 'refs/heads/main', actor: 'octocat', exp: '1900000000' };

  it('act for the repository claim, their actor being the subject', () => {
    expect(oidcPrincipal(claims, POLICY)).toEqual({
      ok: true, principal: { kind: 'repositories', repositories: ['acme/web'], ref: 'refs/heads/main', actor: 'repo:acme/web:ref:refs/heads/main' },
    });
  });

  it('are operators when the subject matches an operator pattern', () => {
    const sub = 'repo:acme/platform:ref:refs/heads/main';
    expect(oidcPrincipal({ ...claims, sub, repository: 'acme/platform' }, POLICY)).toEqual({ ok: true, principal: { kind: 'operator', actor: sub } });
    // an IAM-looking operator pattern does not make a token an operator
    expect(oidcPrincipal({ ...claims, sub: 'arn:aws:iam::111111111111:role/FledgeAdmin' }, POLICY)).toMatchObject({ ok: true, principal: { kind: 'repositories' } });
  });

  it('are refused without a repository claim or a subject', () => {
    expect(oidcPrincipal({ sub: 'repo:acme/web:ref:refs/heads/main' }, POLICY)).toEqual({ ok: false, message: 'the token has no repository claim' });
    expect(oidcPrincipal({ ...claims, repository: '' }, POLICY)).toMatchObject({ ok: false });
    expect(oidcPrincipal({ repository: 'acme/web' }, POLICY)).toEqual({ ok: false, message: 'the token has no subject (sub claim)' });
    expect(oidcPrincipal({ ...claims, repository: ['acme/web'] as unknown as string }, POLICY)).toMatchObject({ ok: false });
  });
});

describe('what a caller may see and create', () => {
  const operator: Principal = { kind: 'operator', actor: 'ops' };
  const one: Principal = { kind: 'repositories', repositories: ['acme/web'], actor: 'ci' };
  const two: Principal = { kind: 'repositories', repositories: ['acme/api', 'acme/web'], actor: 'ci' };

  it('sees only its repositories (an unlabelled environment is the operators\')', () => {
    expect(maySee(operator, undefined)).toBe(true);
    expect(maySee(one, 'acme/web')).toBe(true);
    expect(maySee(one, 'acme/api')).toBe(false);
    expect(maySee(one, undefined)).toBe(false);
  });

  it('creates under one of its repositories; a single one is filled in, several must be named', () => {
    expect(creationRepository(operator, undefined)).toEqual({ ok: true, repository: undefined });
    expect(creationRepository(operator, 'any/thing')).toEqual({ ok: true, repository: 'any/thing' });
    expect(creationRepository(one, undefined)).toEqual({ ok: true, repository: 'acme/web' });
    expect(creationRepository(one, 'acme/api')).toMatchObject({ ok: false });
    expect(creationRepository(two, undefined)).toMatchObject({ ok: false, message: expect.stringContaining('name one') });
    expect(creationRepository(two, 'acme/api')).toEqual({ ok: true, repository: 'acme/api' });
  });

  it('lists one of its repositories at a time; another repository lists nothing', () => {
    expect(listScope(operator, undefined)).toEqual({ kind: 'all', repository: undefined });
    expect(listScope(one, undefined)).toEqual({ kind: 'repository', repository: 'acme/web' });
    expect(listScope(one, 'acme/api')).toEqual({ kind: 'nothing' });
    expect(listScope(two, undefined)).toMatchObject({ kind: 'ambiguous' });
    expect(listScope(two, 'acme/api')).toEqual({ kind: 'repository', repository: 'acme/api' });
  });
});

describe('readAccessPolicy (Lambda environment)', () => {
  it('reads operator patterns as a list or JSON array and the IAM map as JSON', () => {
    expect(readAccessPolicy({})).toEqual(NONE);
    expect(readAccessPolicy({ FLEDGE_OPERATORS: 'a, b' }).operators).toEqual(['a', 'b']);
    expect(readAccessPolicy({ FLEDGE_OPERATORS: '["arn:aws:iam::1:role/x"]' }).operators).toEqual(['arn:aws:iam::1:role/x']);
    expect(readAccessPolicy({ FLEDGE_IAM_REPOSITORIES: '{"arn:aws:iam::1:role/ci":"acme/web","arn:aws:iam::1:role/x":["a/b","c/d"]}' }).iamRepositories).toEqual([
      { pattern: 'arn:aws:iam::1:role/ci', repositories: ['acme/web'] },
      { pattern: 'arn:aws:iam::1:role/x', repositories: ['a/b', 'c/d'] },
    ]);
  });

  it('refuses a malformed setting (a deployment error)', () => {
    expect(() => readAccessPolicy({ FLEDGE_IAM_REPOSITORIES: 'nope' })).toThrow(/JSON object/);
    expect(() => readAccessPolicy({ FLEDGE_IAM_REPOSITORIES: '{"role/ci":"a/b"}' })).toThrow(/not an IAM ARN pattern/);
    expect(() => readAccessPolicy({ FLEDGE_IAM_REPOSITORIES: '{"arn:aws:iam::1:role/ci":[]}' })).toThrow(/non-empty/);
    expect(() => readAccessPolicy({ FLEDGE_OPERATORS: '[1]' })).toThrow(/list of strings/);
  });
});
