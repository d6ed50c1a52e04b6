/**
 * The HTTP API's route table: one Lambda per route. The CDK stack creates one
 * NodejsFunction per entry and local mode dispatches to the same handler modules, so
 * both serve exactly these routes.
 */
export interface RouteDefinition {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** API Gateway v2 path with `{param}` placeholders */
  path: string;
  /** file name under functions/api/ (without .ts); also the function's logical name */
  handler: string;
  /** whether the route starts or stops workflows (needs Step Functions permissions) */
  mutates: boolean;
}

export const routes: readonly RouteDefinition[] = [
  { method: 'GET', path: '/v1/health', handler: 'get-health', mutates: false },
  { method: 'GET', path: '/v1/openapi.json', handler: 'get-openapi', mutates: false },
  { method: 'GET', path: '/v1/environments', handler: 'list-environments', mutates: false },
  { method: 'POST', path: '/v1/environments', handler: 'create-environment', mutates: true },
  { method: 'GET', path: '/v1/environments/{name}', handler: 'get-environment', mutates: false },
  { method: 'PUT', path: '/v1/environments/{name}', handler: 'put-environment', mutates: true },
  { method: 'PATCH', path: '/v1/environments/{name}', handler: 'patch-environment', mutates: true },
  { method: 'DELETE', path: '/v1/environments/{name}', handler: 'delete-environment', mutates: true },
  { method: 'GET', path: '/v1/environments/{name}/events', handler: 'list-events', mutates: false },
  { method: 'GET', path: '/v1/environments/{name}/logs', handler: 'list-logs', mutates: false },
  { method: 'POST', path: '/v1/environments/{name}/scale', handler: 'scale-environment', mutates: true },
  { method: 'POST', path: '/v1/environments/{name}/heal', handler: 'heal-environment', mutates: true },
];

/** `PUT /v1/environments/{name}` — the routeKey API Gateway v2 puts in its events. */
export function routeKey(route: RouteDefinition): string {
  return `${route.method} ${route.path}`;
}
