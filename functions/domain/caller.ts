/**
 * Who calls the API and what it may see and do (docs/security.md "Callers and tenancy").
 *
 * A caller is an operator (sees and does everything) or acts for one or more repositories
 * (`owner/name`, compared exactly): it sees only environments whose `labels.repository` is one
 * of them and creates only under one of them. How an authenticated request becomes a
 * principal (IAM ARN patterns, OIDC claims) is decided here too, from the operator's access
 * policy; functions/commons/caller-config.ts reads that policy and the API Gateway event.
 */

export interface OperatorPrincipal {
  kind: 'operator';
  /** the IAM principal ARN, the OIDC `sub`, or `local` (local mode without --auth) */
  actor: string;
}

export interface RepositoryPrincipal {
  kind: 'repositories';
  /** never empty */
  repositories: readonly string[];
  /** the OIDC `ref` claim, when the token carries one (informational) */
  ref?: string;
  actor: string;
}

export type Principal = OperatorPrincipal | RepositoryPrincipal;

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
   * Operator patterns (`*` matches any run of characters): those starting with `arn:` are
   * matched against IAM callers only, all others against OIDC subjects only.
   */
  operators: readonly string[];
  /** IAM ARN pattern -> the repositories a matching principal acts for */
  iamRepositories: readonly { pattern: string; repositories: readonly string[] }[];
}

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
  if (iamIsOperatorGrant(policy)) return { kind: 'operator', actor: userArn };
  const identities = iamIdentities(userArn);
  if (matchesAny(iamPatterns(policy.operators), identities)) return { kind: 'operator', actor: userArn };
  const repositories = new Set<string>();
  for (const entry of policy.iamRepositories) {
    if (matchesAny([entry.pattern], identities)) for (const repository of entry.repositories) repositories.add(repository);
  }
  if (repositories.size === 0) return undefined;
  return { kind: 'repositories', repositories: [...repositories].sort(), actor: userArn };
}

export type OidcDecision = { ok: true; principal: Principal } | { ok: false; message: string };

/**
 * A caller with a validated OIDC token (GitHub Actions claims, as API Gateway passes them: strings).
 * Its actor is the `sub`; an operator subject is an operator, anyone else acts for the
 * token's `repository` claim, and a token without one is refused.
 */
export function oidcPrincipal(claims: Record<string, unknown>, policy: AccessPolicy): OidcDecision {
  const sub = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : undefined;
  if (!sub) return { ok: false, message: 'the token has no subject (sub claim)' };
  if (policy.operators.some((pattern) => !isIamPattern(pattern) && matchesPattern(pattern, sub))) return { ok: true, principal: { kind: 'operator', actor: sub } };
  const repository = typeof claims.repository === 'string' && claims.repository !== '' ? claims.repository : undefined;
  if (!repository) return { ok: false, message: 'the token has no repository claim' };
  const ref = typeof claims.ref === 'string' && claims.ref !== '' ? claims.ref : undefined;
  return { ok: true, principal: { kind: 'repositories', repositories: [repository], ...(ref ? { ref } : {}), actor: sub } };
}
