/**
 * The operator's access policy (docs/security.md "Callers and tenancy"), read once from the
 * Lambda environment, and the mapping of an API Gateway v2 event to a principal:
 *
 *   FLEDGE_OPERATORS         IAM ARN patterns and OIDC subject patterns of operators
 *                            (JSON array or comma-separated; `*` matches any run of characters)
 *   FLEDGE_IAM_REPOSITORIES  JSON object: IAM ARN pattern -> repository or list of repositories
 *   FLEDGE_OIDC_OWNERS       the GitHub owners whose OIDC tokens are accepted (JSON array or
 *                            comma-separated): ids (digits, matched against repository_owner_id)
 *                            or names (matched against repository_owner, ignoring case). Unset:
 *                            no token is accepted, except in local mode (FLEDGE_LOCAL_MODE=true),
 *                            where the issuer is ours and every owner is.
 *   FLEDGE_OIDC_REFUSED_EVENTS the GitHub events (`event_name` claim) whose tokens are refused,
 *                            comma-separated; `none` for none. Unset (or empty): the default,
 *                            pull_request_target,workflow_run (DEFAULT_OIDC_REFUSED_EVENTS).
 *
 * With neither set, every IAM caller is an operator (IAM access to execute-api is the operator
 * grant, as before tenancy existed); that is logged at cold start.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  DEFAULT_OIDC_REFUSED_EVENTS, iamIsOperatorGrant, iamPrincipal, isGithubEventName, LOCAL_OPERATOR, oidcPrincipal, type AccessPolicy, type Principal,
} from '#domain/caller.ts';
import { Forbidden } from '#domain/errors.ts';
import { logger } from './powertools.ts';

function patternList(raw: string | undefined, name: string): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const text = raw.trim();
  let items: unknown = text.split(',');
  if (text.startsWith('[')) {
    try {
      items = JSON.parse(text);
    } catch {
      throw new Error(`${name} must be a JSON array of strings or a comma-separated list`);
    }
  }
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) throw new Error(`${name} must be a list of strings`);
  return items.map((item: string) => item.trim()).filter(Boolean);
}

function repositoryMap(raw: string | undefined, name: string): AccessPolicy['iamRepositories'] {
  if (raw === undefined || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${name} must be a JSON object of IAM ARN pattern -> repository (or list of repositories)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${name} must be a JSON object`);
  return Object.entries(parsed as Record<string, unknown>).map(([pattern, value]) => {
    const repositories = typeof value === 'string' ? [value] : value;
    if (!pattern.startsWith('arn:')) throw new Error(`${name}: "${pattern}" is not an IAM ARN pattern`);
    if (!Array.isArray(repositories) || repositories.length === 0 || !repositories.every((r) => typeof r === 'string' && r.trim() !== '')) {
      throw new Error(`${name}: "${pattern}" must map to a repository or a non-empty list of repositories`);
    }
    return { pattern, repositories: repositories.map((r: string) => r.trim()) };
  });
}

/** A GitHub owner id (digits) or login (letters, digits, single hyphens; 39 characters at most). */
const OWNER_ENTRY = /^(?:\d{1,20}|[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))$/;

function ownerList(env: NodeJS.ProcessEnv): AccessPolicy['oidcOwners'] {
  const raw = env.FLEDGE_OIDC_OWNERS;
  if (raw === undefined || raw.trim() === '') return env.FLEDGE_LOCAL_MODE === 'true' ? 'any' : [];
  const owners = patternList(raw, 'FLEDGE_OIDC_OWNERS');
  for (const owner of owners) {
    if (!OWNER_ENTRY.test(owner)) throw new Error(`FLEDGE_OIDC_OWNERS: "${owner}" is neither a GitHub owner id (digits) nor an owner name`);
  }
  return owners;
}

/** Unset or empty: the default list (fail safe); `none`: no event is refused (the operator opted out). */
function refusedEvents(env: NodeJS.ProcessEnv): readonly string[] {
  const raw = env.FLEDGE_OIDC_REFUSED_EVENTS?.trim();
  if (!raw) return DEFAULT_OIDC_REFUSED_EVENTS;
  if (raw === 'none') return [];
  const events = patternList(raw, 'FLEDGE_OIDC_REFUSED_EVENTS');
  for (const event of events) {
    if (!isGithubEventName(event)) throw new Error(`FLEDGE_OIDC_REFUSED_EVENTS: "${event}" is not a GitHub event name (lowercase letters and _, e.g. pull_request_target)`);
  }
  return events;
}

/** Parses the policy from an environment (throws on a malformed setting: a deployment error, not a request error). */
export function readAccessPolicy(env: NodeJS.ProcessEnv = process.env): AccessPolicy {
  return {
    oidcOwners: ownerList(env),
    oidcRefusedEvents: refusedEvents(env),
    operators: patternList(env.FLEDGE_OPERATORS, 'FLEDGE_OPERATORS'),
    iamRepositories: repositoryMap(env.FLEDGE_IAM_REPOSITORIES, 'FLEDGE_IAM_REPOSITORIES'),
  };
}

let policy: AccessPolicy | undefined;

export function accessPolicy(): AccessPolicy {
  if (policy) return policy;
  policy = readAccessPolicy();
  if (iamIsOperatorGrant(policy)) {
    logger.info('access policy: neither FLEDGE_OPERATORS nor FLEDGE_IAM_REPOSITORIES is set; every IAM (SigV4) caller is an operator (IAM access to execute-api is the operator grant)');
  } else {
    logger.info('access policy loaded', { operatorPatterns: policy.operators.length, iamRepositoryPatterns: policy.iamRepositories.length });
  }
  if (policy.oidcOwners === 'any') logger.info('access policy: FLEDGE_OIDC_OWNERS is not set; local mode accepts tokens of every repository owner');
  else logger.info('access policy: OIDC tokens accepted from these repository owners only', { oidcOwners: policy.oidcOwners });
  if (policy.oidcRefusedEvents?.length === 0) {
    logger.info('access policy: FLEDGE_OIDC_REFUSED_EVENTS is none; tokens of every GitHub event are accepted, pull_request_target and workflow_run jobs (which may run a fork\'s code with the base repository\'s identity) included');
  } else logger.info('access policy: OIDC tokens of these GitHub events are refused', { oidcRefusedEvents: policy.oidcRefusedEvents });
  return policy;
}

/** For tests and local mode, after changing the environment. */
export function resetAccessPolicy(): void {
  policy = undefined;
}

interface Authorizer {
  iam?: { userArn?: unknown };
  jwt?: { claims?: Record<string, unknown> };
}

/**
 * The principal behind a request: API Gateway's IAM authorizer puts the caller's ARN in
 * `requestContext.authorizer.iam.userArn`, its JWT authorizer the token's claims (as strings)
 * in `requestContext.authorizer.jwt.claims` (API Gateway Developer Guide, "Control access to
 * HTTP APIs with JWT authorizers in API Gateway"). A request with neither is the operator
 * `local` in local mode without --auth and refused anywhere else (fail closed).
 */
export function principalOf(event: APIGatewayProxyEventV2): Principal {
  const authorizer = (event.requestContext as { authorizer?: Authorizer } | undefined)?.authorizer;
  const claims = authorizer?.jwt?.claims;
  if (claims && typeof claims === 'object') {
    const decision = oidcPrincipal(claims, accessPolicy());
    if (!decision.ok) throw new Forbidden(`this token grants no access to Fledge: ${decision.message}`);
    return decision.principal;
  }
  const arn = authorizer?.iam?.userArn;
  if (typeof arn === 'string' && arn !== '') {
    const principal = iamPrincipal(arn, accessPolicy());
    if (!principal) throw new Forbidden('this IAM principal is neither an operator nor mapped to a repository (FLEDGE_IAM_REPOSITORIES)');
    return principal;
  }
  if (process.env.FLEDGE_LOCAL_MODE === 'true' && !process.env.FLEDGE_LOCAL_AUTH) return LOCAL_OPERATOR;
  throw new Forbidden('the request carries no authenticated caller');
}
