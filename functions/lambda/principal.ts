/**
 * The principal behind an API request: API Gateway's IAM authorizer puts the caller's ARN in
 * `requestContext.authorizer.iam.userArn`, its JWT authorizer the token's claims (as strings)
 * in `requestContext.authorizer.jwt.claims` (API Gateway Developer Guide, "Control access to
 * HTTP APIs with JWT authorizers in API Gateway"). A request with neither is the operator
 * `local` in local mode without --auth and refused anywhere else (fail closed). Who may do what
 * is the operator's access policy (functions/runtime/config.ts accessPolicy()).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { iamPrincipal, LOCAL_OPERATOR, oidcPrincipal, type Principal } from '#domain/caller.ts';
import { Forbidden } from '#domain/errors.ts';
import { accessPolicy, localMode } from '#runtime/config.ts';

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
