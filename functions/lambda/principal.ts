/**
 * The principal behind an API request: API Gateway's IAM authorizer puts the caller's ARN in
 * `requestContext.authorizer.iam.userArn`, its JWT authorizer the token's claims (as strings)
 * in `requestContext.authorizer.jwt.claims` (API Gateway Developer Guide, "Control access to
 * HTTP APIs with JWT authorizers in API Gateway"). A request with neither is the operator
 * `local` in local mode without --auth and refused anywhere else (fail closed). Who may do what
 * is the operator's access policy (functions/runtime/config.ts accessPolicy()).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { iamIsOperatorGrant, iamPrincipal, LOCAL_OPERATOR, oidcPrincipal, type AccessPolicy, type Principal } from '#domain/caller.ts';
import { Forbidden } from '#domain/errors.ts';
import { accessPolicy as readPolicy, localMode } from '#runtime/config.ts';
import { logger } from '#runtime/powertools.ts';

const logged = new WeakSet<AccessPolicy>();

/** The access policy; what it grants is logged once per cold start (and again after resetConfig()). */
function accessPolicy(): AccessPolicy {
  const policy = readPolicy();
  if (logged.has(policy)) return policy;
  logged.add(policy);
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

interface Authorizer {
  iam?: { userArn?: unknown };
  jwt?: { claims?: Record<string, unknown> };
}

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
  const mode = localMode();
  if (mode.local && !mode.auth) return LOCAL_OPERATOR;
  throw new Forbidden('the request carries no authenticated caller');
}
