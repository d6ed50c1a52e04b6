import { describe, expect, it } from 'vitest';
import {
  creationRepository, DEFAULT_OIDC_REFUSED_EVENTS, iamIdentities, iamPrincipal, listScope, matchesPattern, maySee, oidcIdentity, oidcPrincipal, stableIdentity, type AccessPolicy,
  type Principal,
} from '../../../functions/domain/caller.ts';
import { readAccessPolicy } from '../../../functions/runtime/config.ts';

const NONE: AccessPolicy = { oidcOwners: [], operators: [], iamRepositories: [] };
const POLICY: AccessPolicy = {
  oidcOwners: ['acme'],
  operators: ['arn:aws:iam::111111111111:role/FledgeAdmin', 'repo:acme/platform:ref:refs/heads/main'],
  iamRepositories: [
    { pattern: 'arn:aws:iam::111111111111:role/ci-web', repositories: ['acme/web'] },
    { pattern: 'arn:aws:iam::111111111111:role/ci-*', repositories: ['acme/shared'] },
    { pattern: 'arn:aws:iam::111111111111:user/builder', repositories: ['acme/api', 'acme/web'] },
  ],
};
const assumed = (role: string, account = '111111111111', session = 'GitHubActions-42') => `arn:aws:sts::${account}:assumed-role/${role}/${session}`;
const roleArn = (role: string, account = '111111111111') => `arn:aws:iam::${account}:role/${role}`;

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
    expect(iamPrincipal(assumed('anything'), NONE)).toEqual({ kind: 'operator', actor: assumed('anything'), identity: roleArn('anything') });
    expect(iamPrincipal('arn:aws:iam::111111111111:user/builder', NONE)).toEqual({ kind: 'operator', actor: 'arn:aws:iam::111111111111:user/builder' });
  });

  it('once configured: operators by pattern, repositories from every matching map entry, nothing for the unmapped', () => {
    expect(iamPrincipal(assumed('FledgeAdmin'), POLICY)).toEqual({ kind: 'operator', actor: assumed('FledgeAdmin'), identity: roleArn('FledgeAdmin') });
    expect(iamPrincipal(assumed('ci-web'), POLICY)).toEqual({ kind: 'repositories', repositories: ['acme/shared', 'acme/web'], actor: assumed('ci-web'), identity: roleArn('ci-web') });
    expect(iamPrincipal(assumed('ci-api'), POLICY)).toEqual({ kind: 'repositories', repositories: ['acme/shared'], actor: assumed('ci-api'), identity: roleArn('ci-api') });
    expect(iamPrincipal('arn:aws:iam::111111111111:user/builder', POLICY)).toMatchObject({ repositories: ['acme/api', 'acme/web'] });
    expect(iamPrincipal(assumed('deployer'), POLICY)).toBeUndefined();
    // the same role name in another account is another principal
    expect(iamPrincipal(assumed('ci-web', '222222222222'), POLICY)).toBeUndefined();
    expect(iamPrincipal(assumed('FledgeAdmin', '222222222222'), POLICY)).toBeUndefined();
  });
});

describe('stableIdentity (the scope of Idempotency-Keys)', () => {
  it('is the role for every session of an assumed role, while the actor stays the session', () => {
    const first = iamPrincipal(assumed('ci-web', '111111111111', 'run-1'), POLICY)!;
    const retry = iamPrincipal(assumed('ci-web', '111111111111', 'run-1-retry'), POLICY)!;
    expect(stableIdentity(first)).toBe(roleArn('ci-web'));
    expect(stableIdentity(retry)).toBe(stableIdentity(first));
    expect(first.actor).not.toBe(retry.actor);
    // another role, or the same role name in another account, is another identity
    expect(stableIdentity(iamPrincipal(assumed('ci-api'), POLICY)!)).toBe(roleArn('ci-api'));
    expect(stableIdentity(iamPrincipal(assumed('x', '222222222222'), NONE)!)).toBe(roleArn('x', '222222222222'));
    expect(stableIdentity(iamPrincipal('arn:aws-cn:sts::111111111111:assumed-role/R/s', NONE)!)).toBe('arn:aws-cn:iam::111111111111:role/R');
  });

  it('is the ARN of an IAM user, an OIDC caller\'s repository, repository id and sub, and "local" for local mode', () => {
    expect(stableIdentity(iamPrincipal('arn:aws:iam::111111111111:user/builder', POLICY)!)).toBe('arn:aws:iam::111111111111:user/builder');
    const decision = oidcPrincipal({ sub: 'repo:acme/web:ref:refs/heads/main', repository: 'acme/web', repository_id: '42', repository_owner: 'acme', event_name: 'push' }, POLICY);
    expect(decision.ok && stableIdentity(decision.principal)).toBe('oidc:["acme/web","42","repo:acme/web:ref:refs/heads/main"]');
    expect(stableIdentity({ kind: 'operator', actor: 'local' })).toBe('local');
  });

  it('two OIDC callers with the same (customised) sub and different repositories never share a scope', () => {
    // an organisation's subject template without the repository (`include_claim_keys: ["repository_owner", "context"]`)
    const sub = 'repository_owner:acme:context:ref:refs/heads/main';
    const scope = (claims: Record<string, unknown>) => {
      const decision = oidcPrincipal({ sub, repository_owner: 'acme', event_name: 'push', ...claims }, POLICY);
      if (!decision.ok) throw new Error(decision.message);
      expect(decision.principal.actor).toBe(sub);
      return stableIdentity(decision.principal);
    };
    const web = scope({ repository: 'acme/web', repository_id: '1' });
    const api = scope({ repository: 'acme/api', repository_id: '2' });
    expect(web).not.toBe(api);
    // a repository deleted and created again under the same name has a new id: a new scope
    expect(scope({ repository: 'acme/web', repository_id: '3' })).not.toBe(web);
    // without repository_id the repository still tells them apart
    expect(scope({ repository: 'acme/web' })).not.toBe(scope({ repository: 'acme/api' }));
    // the same repository and sub on a retry: the same scope (its replay is found)
    expect(scope({ repository: 'acme/web', repository_id: '1' })).toBe(web);
    // no two tuples of parts read the same (a naive `repository:id:sub` join would make these equal)
    expect(oidcIdentity({ repository: 'acme/web', repository_id: '1' }, 'x:y')).not.toBe(oidcIdentity({ repository: 'acme/web', repository_id: '1:x' }, 'y'));
    // and never an IAM caller's
    expect(web.startsWith('oidc:')).toBe(true);
  });

  it('an OIDC operator is scoped by its repository and sub too', () => {
    const sub = 'repo:acme/platform:ref:refs/heads/main';
    const decision = oidcPrincipal({ sub, repository: 'acme/platform', repository_owner: 'acme', event_name: 'push' }, POLICY);
    expect(decision.ok && stableIdentity(decision.principal)).toBe(`oidc:["acme/platform",null,"${sub}"]`);
  });
});

describe('OIDC callers (GitHub Actions claims, as strings)', () => {
  const claims = {
    sub: 'repo:acme/web:ref:refs/heads/main', repository: 'acme/web', repository_owner: 'acme', repository_owner_id: '1001',
    ref: 'refs/heads/main', actor: 'octocat', event_name: 'push', exp: '1900000000',
  };

  it('act for the repository claim, their actor being the subject', () => {
    expect(oidcPrincipal(claims, POLICY)).toEqual({
      ok: true, principal: {
        kind: 'repositories', repositories: ['acme/web'], ref: 'refs/heads/main', actor: 'repo:acme/web:ref:refs/heads/main',
        identity: 'oidc:["acme/web",null,"repo:acme/web:ref:refs/heads/main"]',
      },
    });
  });

  it('are operators when the subject matches an operator pattern', () => {
    const sub = 'repo:acme/platform:ref:refs/heads/main';
    expect(oidcPrincipal({ ...claims, sub, repository: 'acme/platform' }, POLICY)).toEqual({ ok: true, principal: { kind: 'operator', actor: sub, identity: `oidc:["acme/platform",null,"${sub}"]` } });
    // an IAM-looking operator pattern does not make a token an operator
    expect(oidcPrincipal({ ...claims, sub: 'arn:aws:iam::111111111111:role/FledgeAdmin' }, POLICY)).toMatchObject({ ok: true, principal: { kind: 'repositories' } });
  });

  it('are refused without a repository claim or a subject', () => {
    expect(oidcPrincipal({ sub: 'repo:acme/web:ref:refs/heads/main', repository_owner: 'acme', event_name: 'push' }, POLICY)).toEqual({ ok: false, message: 'the token has no repository claim' });
    expect(oidcPrincipal({ ...claims, repository: '' }, POLICY)).toMatchObject({ ok: false });
    expect(oidcPrincipal({ repository: 'acme/web', repository_owner: 'acme', event_name: 'push' }, POLICY)).toEqual({ ok: false, message: 'the token has no subject (sub claim)' });
    expect(oidcPrincipal({ ...claims, repository: ['acme/web'] as unknown as string }, POLICY)).toMatchObject({ ok: false });
  });
});

describe('the OIDC owner allow-list (every token, before anything else)', () => {
  const token = (owner: string, ownerId: string, extra: Record<string, string> = {}) => ({
    sub: `repo:${owner}/web:ref:refs/heads/main`, repository: `${owner}/web`, repository_owner: owner, repository_owner_id: ownerId, event_name: 'push', ...extra,
  });
  const withOwners = (oidcOwners: AccessPolicy['oidcOwners']): AccessPolicy => ({ ...POLICY, oidcOwners });

  it('refuses a token of another owner, in plain words, naming that owner', () => {
    const decision = oidcPrincipal(token('mallory', '666'), POLICY);
    expect(decision).toEqual({ ok: false, message: expect.stringContaining('repositories of mallory may not use this installation') });
    // its audience was right (API Gateway let it through); a repository name of ours in it does not help
    expect(oidcPrincipal({ ...token('mallory', '666'), repository: 'acme/web' }, POLICY)).toMatchObject({ ok: false });
  });

  it('matches an id against repository_owner_id only, whatever the owner is called now', () => {
    const byId = withOwners(['1001']);
    expect(oidcPrincipal(token('acme', '1001'), byId)).toMatchObject({ ok: true, principal: { repositories: ['acme/web'] } });
    // renamed: another name, the same id
    expect(oidcPrincipal(token('acme-renamed', '1001'), byId)).toMatchObject({ ok: true, principal: { repositories: ['acme-renamed/web'] } });
    // someone who took the old name has another id
    expect(oidcPrincipal(token('acme', '2002'), byId)).toMatchObject({ ok: false });
    // an id is not a name: an owner called 1001 with another id is refused
    expect(oidcPrincipal(token('1001', '3003'), byId)).toMatchObject({ ok: false });
  });

  it('matches a name against repository_owner, ignoring case', () => {
    expect(oidcPrincipal(token('ACME', '2002'), POLICY)).toMatchObject({ ok: true });
    expect(oidcPrincipal(token('acme', '2002'), withOwners(['AcMe']))).toMatchObject({ ok: true });
    expect(oidcPrincipal(token('acme-evil', '2002'), POLICY)).toMatchObject({ ok: false });
    expect(oidcPrincipal(token('evil', '2002'), withOwners(['evil-corp', '1001']))).toMatchObject({ ok: false });
  });

  it('checks operators too: an operator subject of another owner is refused', () => {
    const sub = 'repo:acme/platform:ref:refs/heads/main';
    expect(oidcPrincipal(token('acme', '1001', { sub, repository: 'acme/platform' }), POLICY)).toEqual({ ok: true, principal: { kind: 'operator', actor: sub, identity: expect.stringContaining(sub) } });
    const everyone: AccessPolicy = { ...POLICY, operators: ['repo:*'] };
    expect(oidcPrincipal(token('mallory', '666'), everyone)).toMatchObject({ ok: false, message: expect.stringContaining('mallory') });
    // an operator token that names no owner at all
    expect(oidcPrincipal({ sub }, POLICY)).toEqual({ ok: false, message: expect.stringContaining('names no repository owner') });
  });

  it('accepts no token when no owner is configured (fail closed), every owner only when told to (local mode)', () => {
    expect(oidcPrincipal(token('acme', '1'), NONE)).toEqual({ ok: false, message: expect.stringContaining('accepts no OIDC tokens') });
    expect(oidcPrincipal(token('anyone', '1'), withOwners('any'))).toMatchObject({ ok: true });
    expect(oidcPrincipal({ sub: 'repo:x/y:ref:refs/heads/main', repository: 'x/y', event_name: 'push' }, withOwners('any'))).toMatchObject({ ok: true });
  });
});

describe('the GitHub events whose tokens are refused (every token, right after the owner check)', () => {
  const token = (event: string | undefined, extra: Record<string, string> = {}) => ({
    sub: 'repo:acme/web:pull_request', repository: 'acme/web', repository_owner: 'acme', repository_owner_id: '1001',
    ...(event === undefined ? {} : { event_name: event }), ...extra,
  });
  const refusing = (oidcRefusedEvents: AccessPolicy['oidcRefusedEvents']): AccessPolicy => ({ ...POLICY, oidcRefusedEvents });

  it('refuses by default a pull_request_target or workflow_run token of an allowed owner, in plain words naming the event', () => {
    // a fork's pull request runs the base repository's pull_request_target job: its token names the BASE repository
    expect(oidcPrincipal(token('pull_request_target'), POLICY)).toEqual({
      ok: false, message: expect.stringContaining('tokens of "pull_request_target" jobs may not use this installation'),
    });
    expect(oidcPrincipal(token('workflow_run'), POLICY)).toEqual({ ok: false, message: expect.stringContaining('"workflow_run" jobs') });
    expect(oidcPrincipal(token('workflow_run'), POLICY)).toMatchObject({ message: expect.stringContaining('oidcRefusedEvents') });
    expect(DEFAULT_OIDC_REFUSED_EVENTS).toEqual(['pull_request_target', 'workflow_run']);
    // GitHub spells events in lowercase; another spelling is not a way around the list
    expect(oidcPrincipal(token('Pull_Request_Target'), POLICY)).toMatchObject({ ok: false, message: expect.stringContaining('"Pull_Request_Target" jobs') });
  });

  it('accepts the events that are not refused', () => {
    for (const event of ['push', 'pull_request', 'workflow_dispatch', 'schedule', 'merge_group']) {
      expect(oidcPrincipal(token(event), POLICY), event).toEqual({
        ok: true, principal: { kind: 'repositories', repositories: ['acme/web'], actor: 'repo:acme/web:pull_request', identity: expect.stringMatching(/^oidc:\["acme\/web",/) },
      });
    }
  });

  it('refuses exactly the events of a custom list', () => {
    const custom = refusing(['pull_request_target', 'issue_comment']);
    expect(oidcPrincipal(token('issue_comment'), custom)).toMatchObject({ ok: false, message: expect.stringContaining('"issue_comment"') });
    expect(oidcPrincipal(token('pull_request_target'), custom)).toMatchObject({ ok: false });
    expect(oidcPrincipal(token('workflow_run'), custom)).toMatchObject({ ok: true });
    expect(oidcPrincipal(token('push'), custom)).toMatchObject({ ok: true });
  });

  it('with an empty list (the operator opted out) accepts every event, and a token without the claim', () => {
    const none = refusing([]);
    for (const event of ['pull_request_target', 'workflow_run', 'push', undefined]) expect(oidcPrincipal(token(event), none), String(event)).toMatchObject({ ok: true });
  });

  it('refuses a token without an event_name claim while any event is refused (GitHub always sends one: fail closed)', () => {
    for (const policy of [POLICY, refusing(['issue_comment'])]) {
      expect(oidcPrincipal(token(undefined), policy)).toEqual({ ok: false, message: expect.stringContaining('names no triggering event (event_name claim)') });
      expect(oidcPrincipal(token(''), policy)).toMatchObject({ ok: false });
    }
  });

  it('refuses operators too, and checks the owner first', () => {
    const sub = 'repo:acme/platform:ref:refs/heads/main';
    expect(oidcPrincipal(token('push', { sub, repository: 'acme/platform' }), POLICY)).toEqual({ ok: true, principal: { kind: 'operator', actor: sub, identity: expect.stringContaining(sub) } });
    expect(oidcPrincipal(token('pull_request_target', { sub, repository: 'acme/platform' }), POLICY)).toEqual({
      ok: false, message: expect.stringContaining('"pull_request_target" jobs'),
    });
    expect(oidcPrincipal(token('workflow_run', { sub }), { ...POLICY, operators: ['repo:*'] })).toMatchObject({ ok: false });
    // another owner's refused-event token is refused for its owner
    expect(oidcPrincipal(token('pull_request_target', { repository_owner: 'mallory', repository_owner_id: '666' }), POLICY)).toMatchObject({
      ok: false, message: expect.stringContaining('repositories of mallory'),
    });
  });
});

describe('operator subject patterns and GitHub\'s immutable sub format', () => {
  // repositories created, renamed or transferred on github.com from 2026-07-15 on (and those that
  // opt in) get `repo:<owner>@<owner id>/<name>@<repository id>:...` as their default sub
  const immutable = 'repo:acme@1001/ops@555666:ref:refs/heads/main';
  const claims = { sub: immutable, repository: 'acme/ops', repository_owner: 'acme', repository_owner_id: '1001', event_name: 'push' };

  it('a pattern written in the old form stops matching such a sub (fail closed: the job acts for its repository only)', () => {
    const old: AccessPolicy = { ...POLICY, operators: ['repo:acme/ops:ref:refs/heads/main'] };
    expect(oidcPrincipal(claims, old)).toEqual({ ok: true, principal: { kind: 'repositories', repositories: ['acme/ops'], actor: immutable, identity: expect.stringContaining(immutable) } });
  });

  it('a pattern in the immutable form matches it, and not the same names under other ids', () => {
    const pinned: AccessPolicy = { ...POLICY, operators: ['repo:acme@1001/ops@555666:ref:refs/heads/main'] };
    expect(oidcPrincipal(claims, pinned)).toEqual({ ok: true, principal: { kind: 'operator', actor: immutable, identity: expect.stringContaining(immutable) } });
    expect(matchesPattern('repo:acme@1001/ops@555666:ref:refs/heads/main', immutable)).toBe(true);
    // a recycled name: the same owner/name, another repository id
    const recycled = 'repo:acme@1001/ops@777888:ref:refs/heads/main';
    expect(oidcPrincipal({ ...claims, sub: recycled }, pinned)).toMatchObject({ ok: true, principal: { kind: 'repositories' } });
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
    expect(readAccessPolicy({})).toEqual({ ...NONE, oidcRefusedEvents: DEFAULT_OIDC_REFUSED_EVENTS });
    // owners: ids and names, as a list or a JSON array; unset: none on AWS, any in local mode
    expect(readAccessPolicy({ FLEDGE_OIDC_OWNERS: '1001, acme' }).oidcOwners).toEqual(['1001', 'acme']);
    expect(readAccessPolicy({ FLEDGE_OIDC_OWNERS: '["1001"]', FLEDGE_LOCAL_MODE: 'true' }).oidcOwners).toEqual(['1001']);
    expect(readAccessPolicy({ FLEDGE_LOCAL_MODE: 'true' }).oidcOwners).toBe('any');
    expect(readAccessPolicy({ FLEDGE_OIDC_OWNERS: ' ' }).oidcOwners).toEqual([]);
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
    expect(() => readAccessPolicy({ FLEDGE_OIDC_OWNERS: 'acme/web' })).toThrow(/FLEDGE_OIDC_OWNERS: "acme\/web" is neither/);
    expect(() => readAccessPolicy({ FLEDGE_OIDC_REFUSED_EVENTS: 'pull_request_target, Workflow-Run' })).toThrow(/"Workflow-Run" is not a GitHub event name/);
  });

  it('reads the refused events: comma-separated, "none" for none, the default when unset or empty (fail safe)', () => {
    expect(readAccessPolicy({}).oidcRefusedEvents).toEqual(['pull_request_target', 'workflow_run']);
    expect(readAccessPolicy({ FLEDGE_OIDC_REFUSED_EVENTS: ' ' }).oidcRefusedEvents).toEqual(['pull_request_target', 'workflow_run']);
    expect(readAccessPolicy({ FLEDGE_OIDC_REFUSED_EVENTS: 'none' }).oidcRefusedEvents).toEqual([]);
    expect(readAccessPolicy({ FLEDGE_OIDC_REFUSED_EVENTS: 'pull_request_target, issue_comment' }).oidcRefusedEvents).toEqual(['pull_request_target', 'issue_comment']);
  });
});
