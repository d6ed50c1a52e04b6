/**
 * Who calls the API and what it may see and do (docs/security.md "Callers and tenancy").
 *
 * A caller is an operator (sees and does everything) or acts for one or more repositories
 * (`owner/name`, compared exactly): it sees only environments whose `labels.repository` is one
 * of them and creates only under one of them. How an authenticated request becomes a
 * principal (IAM ARN patterns, OIDC claims) is decided here too, from the operator's access
 * policy; functions/runtime/config.ts reads that policy, functions/lambda/principal.ts the API Gateway event.
 */

export interface OperatorPrincipal {
  kind: 'operator';
  /** the IAM principal ARN, the OIDC `sub`, or `local` (local mode without --auth) */
  actor: string;
  /** who the caller is across sessions, when that differs from `actor` (see `stableIdentity`) */
  identity?: string;
}

export interface RepositoryPrincipal {
  kind: 'repositories';
  /** never empty */
  repositories: readonly string[];
  /** the OIDC `ref` claim, when the token carries one (informational) */
  ref?: string;
  actor: string;
  /** who the caller is across sessions, when that differs from `actor` (see `stableIdentity`) */
  identity?: string;
}

export type Principal = OperatorPrincipal | RepositoryPrincipal;

/**
 * Who the caller is across its sessions: the scope of its Idempotency-Keys. `actor` names one
 * session (an IAM assumed-role ARN ends in the session name, which CI picks anew on every
 * AssumeRole, so a retry from the next job would miss its replay); this is the role
 * (`arn:<partition>:iam::<account>:role/<Role>`) for an assumed-role session, an OIDC caller's
 * repository, repository id and `sub` together (`oidcIdentity`), and the actor for everyone else
 * (IAM users, `local`). Events keep the session ARN or the `sub` as their actor.
 */
export function stableIdentity(principal: Principal): string {
  return principal.identity ?? principal.actor;
}

/** Local mode without --auth: every request is this operator. */
export const LOCAL_OPERATOR: OperatorPrincipal = { kind: 'operator', actor: 'local' };

export function isOperator(principal: Principal): principal is OperatorPrincipal {
  return principal.kind === 'operator';
}

/** Whether the caller may see (and so act on) an environment labelled with `repository`. */
export function maySee(principal: Principal, repository: string | undefined): boolean {
  if (isOperator(principal)) return true;
  return repository !== undefined && principal.repositories.includes(repository);
}

export type CreationDecision =
  | { ok: true; repository: string | undefined }
  | { ok: false; message: string };

/**
 * The `labels.repository` an environment created (or re-specified) by this caller gets:
 * operators keep what they asked for; a repository caller must name one of its repositories,
 * or may leave it out when it acts for exactly one (that one is filled in).
 */
export function creationRepository(principal: Principal, requested: string | undefined): CreationDecision {
  if (isOperator(principal)) return { ok: true, repository: requested };
  if (requested === undefined) {
    if (principal.repositories.length === 1) return { ok: true, repository: principal.repositories[0] };
    return { ok: false, message: `required: this caller acts for several repositories (${principal.repositories.join(', ')}); name one` };
  }
  if (principal.repositories.includes(requested)) return { ok: true, repository: requested };
  return { ok: false, message: `must be a repository this caller acts for (${principal.repositories.join(', ')})` };
}

export type ListScope =
  /** list everything the filter selects (operators) */
  | { kind: 'all'; repository: string | undefined }
  /** list exactly this repository's environments */
  | { kind: 'repository'; repository: string }
  /** the filter names a repository the caller does not act for: an empty page */
  | { kind: 'nothing' }
  /** several repositories and no filter: the caller must name one */
  | { kind: 'ambiguous'; message: string };

/**
 * Which environments a LIST may return. A repository caller lists one repository at a time:
 * its only one by default, the one `?repository=` names otherwise (several repositories and
 * no filter is a 400, not a merge: one index partition per page keeps cursors simple).
 */
export function listScope(principal: Principal, requested: string | undefined): ListScope {
  if (isOperator(principal)) return { kind: 'all', repository: requested };
  if (requested !== undefined) return principal.repositories.includes(requested) ? { kind: 'repository', repository: requested } : { kind: 'nothing' };
  if (principal.repositories.length === 1) return { kind: 'repository', repository: principal.repositories[0]! };
  return { kind: 'ambiguous', message: `this caller acts for several repositories (${principal.repositories.join(', ')}); name one with ?repository=` };
}

// ------------------------------------------------------------------ from credentials to a principal

/** The operator's access policy: who is an operator, which IAM principals act for which repositories. */
export interface AccessPolicy {
  /**
   * The GitHub owners (users or organisations) whose OIDC tokens are accepted: numeric ids,
   * matched against the `repository_owner_id` claim (an id survives renames and is never
   * reused), or names, matched against `repository_owner` ignoring case. `'any'`: every owner
   * (local mode only, where the issuer is ours). Empty: no token is accepted (fail closed).
   */
  oidcOwners: readonly string[] | 'any';
  /**
   * Operator patterns (`*` matches any run of characters): those starting with `arn:` are
   * matched against IAM callers only, all others against OIDC subjects only.
   */
  operators: readonly string[];
  /** IAM ARN pattern -> the repositories a matching principal acts for */
  iamRepositories: readonly { pattern: string; repositories: readonly string[] }[];
  /**
   * GitHub event names (the `event_name` claim) whose tokens are refused, operators' too (see
   * `eventDecision`). Left out: `DEFAULT_OIDC_REFUSED_EVENTS`; empty: every event is accepted.
   */
  oidcRefusedEvents?: readonly string[];
}

/**
 * The events refused unless the operator says otherwise: a `pull_request_target` job runs "in
 * the context of the base of the pull request", and a `workflow_run` job, started when another
 * workflow (e.g. a fork's `pull_request` run) completes, runs from the default branch of the
 * repository (GitHub Docs, "Events that trigger workflows"), so their tokens name the BASE
 * repository (GitHub Docs, "OpenID Connect reference": `repository` is the repository the
 * workflow runs in), while such jobs are the ones written to handle a fork's pull request and
 * often check out, build or run its code. Such a token would let a fork create an environment of the
 * base repository running the fork's image with the base repository's secrets.
 */
export const DEFAULT_OIDC_REFUSED_EVENTS: readonly string[] = ['pull_request_target', 'workflow_run'];

/** A GitHub event name as the `event_name` claim spells it (`push`, `pull_request_target`). */
export const isGithubEventName = (name: string): boolean => /^[a-z][a-z_]{0,63}$/.test(name);

/** Neither operators nor an IAM map configured: IAM access to the API is the operator grant (backward compatible). */
export function iamIsOperatorGrant(policy: AccessPolicy): boolean {
  return policy.operators.length === 0 && policy.iamRepositories.length === 0;
}

/** `*` matches any run of characters (slashes and colons included); everything else literally, case-sensitively. */
export function matchesPattern(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  return regex.test(value);
}

/**
 * The ARNs an IAM caller is known by: its own, and for an assumed role
 * (`arn:aws:sts::<acct>:assumed-role/<Role>/<session>`) the role's
 * `arn:aws:iam::<acct>:role/<Role>`, so patterns can be written for the role. The assumed-role
 * ARN carries no role path, so patterns for roles must leave the path out (IAM User Guide,
 * "IAM identifiers": ARNs of assumed-role sessions).
 */
export function iamIdentities(arn: string): string[] {
  const match = /^arn:([a-z-]+):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (!match) return [arn];
  const [, partition, account, role] = match;
  return [arn, `arn:${partition}:iam::${account}:role/${role}`];
}

const isIamPattern = (pattern: string) => pattern.startsWith('arn:');
const iamPatterns = (patterns: readonly string[]) => patterns.filter(isIamPattern);

function matchesAny(patterns: readonly string[], identities: readonly string[]): boolean {
  return patterns.some((pattern) => identities.some((identity) => matchesPattern(pattern, identity)));
}

/** An IAM (SigV4) caller; undefined when the policy maps it to nothing (a 403). */
export function iamPrincipal(userArn: string, policy: AccessPolicy): Principal | undefined {
  const identities = iamIdentities(userArn);
  // an assumed-role session is known across sessions by its role (stableIdentity)
  const identity = identities.length > 1 ? { identity: identities[1]! } : {};
  if (iamIsOperatorGrant(policy)) return { kind: 'operator', actor: userArn, ...identity };
  if (matchesAny(iamPatterns(policy.operators), identities)) return { kind: 'operator', actor: userArn, ...identity };
  const repositories = new Set<string>();
  for (const entry of policy.iamRepositories) {
    if (matchesAny([entry.pattern], identities)) for (const repository of entry.repositories) repositories.add(repository);
  }
  if (repositories.size === 0) return undefined;
  return { kind: 'repositories', repositories: [...repositories].sort(), actor: userArn, ...identity };
}

export type OidcDecision = { ok: true; principal: Principal } | { ok: false; message: string };

const claimText = (claims: Record<string, unknown>, name: string): string | undefined =>
  typeof claims[name] === 'string' && claims[name] !== '' ? (claims[name] as string) : undefined;

/** An owner allow-list entry of digits only is an owner id; anything else an owner name. */
export const isOwnerId = (entry: string): boolean => /^\d+$/.test(entry);

/**
 * Whether the token's repository owner is one the operator accepts. API Gateway's JWT
 * authorizer checks only the signature, iss, aud and the times ("Control access to HTTP APIs
 * with JWT authorizers in API Gateway"), and any GitHub workflow may ask for a token with any
 * audience (`core.getIDToken(audience)`, GitHub Docs "OpenID Connect reference"), so without
 * this every repository on github.com could call the CI API.
 */
export function ownerDecision(claims: Record<string, unknown>, owners: AccessPolicy['oidcOwners']): { ok: true } | { ok: false; message: string } {
  if (owners === 'any') return { ok: true };
  if (owners.length === 0) return { ok: false, message: 'this installation accepts no OIDC tokens (no repository owners are configured: context oidcRepositoryOwners)' };
  const ownerId = claimText(claims, 'repository_owner_id');
  const owner = claimText(claims, 'repository_owner');
  const accepted = owners.some((entry) => (isOwnerId(entry) ? ownerId === entry : owner !== undefined && owner.toLowerCase() === entry.toLowerCase()));
  if (accepted) return { ok: true };
  if (!owner && !ownerId) return { ok: false, message: 'the token names no repository owner (repository_owner, repository_owner_id claims)' };
  return { ok: false, message: `repositories of ${owner ?? `owner id ${ownerId}`} may not use this installation (it accepts tokens of its configured GitHub owners only)` };
}

/**
 * Whether the token's triggering event (`event_name` claim) is one the operator accepts: a
 * token of a refused event is refused, and so is a token without the claim while any event is
 * refused (GitHub always sends it, so its absence means the token is not what it claims to be,
 * and such a token could not be told apart from a refused one: fail closed). With nothing
 * refused the claim is not read.
 */
export function eventDecision(claims: Record<string, unknown>, refused: readonly string[] = DEFAULT_OIDC_REFUSED_EVENTS): { ok: true } | { ok: false; message: string } {
  if (refused.length === 0) return { ok: true };
  const event = claimText(claims, 'event_name');
  if (event === undefined) {
    return { ok: false, message: `the token names no triggering event (event_name claim), so it cannot be told apart from a ${refused.join(' or ')} job (context oidcRefusedEvents)` };
  }
  // the list is lowercase, as GitHub spells events; a claim in another case is compared as if lowercase (fail closed)
  if (!refused.includes(event.toLowerCase())) return { ok: true };
  return {
    ok: false,
    message: `tokens of "${event}" jobs may not use this installation: such a job runs with its base repository's identity but may run a pull request's code (context oidcRefusedEvents)`,
  };
}

/**
 * An OIDC caller across its sessions (the scope of its Idempotency-Keys): its `repository` and
 * `repository_id` claims (when the token carries them) and its `sub`, never the `sub` alone.
 * GitHub lets an organisation or a repository customise the `sub` claim (the REST API's "Set the
 * customization template for an OIDC subject claim", `include_claim_keys`, e.g.
 * `["repository_owner", "context"]`: GitHub Docs, "OpenID Connect reference", "Customizing the
 * subject claims for an organization or repository"), so every repository of an organisation
 * may send the same `sub`: keyed by `sub` alone, repository A could replay B's stored answer or
 * use up B's keys. The parts are JSON-encoded, so no two different tuples read the same, and the
 * `oidc:` prefix keeps them apart from IAM ARNs and `local`.
 */
export function oidcIdentity(claims: Record<string, unknown>, sub: string): string {
  return `oidc:${JSON.stringify([claimText(claims, 'repository') ?? null, claimText(claims, 'repository_id') ?? null, sub])}`;
}

/**
 * A caller with a validated OIDC token (GitHub Actions claims, as API Gateway passes them: strings).
 * First, for every token (operators' too), its repository owner must be on the allow-list and
 * its triggering event must not be refused (`eventDecision`); then its actor is the `sub`; an
 * operator subject is an operator, anyone else acts for the token's `repository` claim, and a
 * token without one is refused.
 */
export function oidcPrincipal(claims: Record<string, unknown>, policy: AccessPolicy): OidcDecision {
  const owner = ownerDecision(claims, policy.oidcOwners);
  if (!owner.ok) return owner;
  const event = eventDecision(claims, policy.oidcRefusedEvents);
  if (!event.ok) return event;
  const sub = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : undefined;
  if (!sub) return { ok: false, message: 'the token has no subject (sub claim)' };
  const identity = oidcIdentity(claims, sub);
  if (policy.operators.some((pattern) => !isIamPattern(pattern) && matchesPattern(pattern, sub))) return { ok: true, principal: { kind: 'operator', actor: sub, identity } };
  const repository = claimText(claims, 'repository');
  if (!repository) return { ok: false, message: 'the token has no repository claim' };
  const ref = claimText(claims, 'ref');
  return { ok: true, principal: { kind: 'repositories', repositories: [repository], ...(ref ? { ref } : {}), actor: sub, identity } };
}
