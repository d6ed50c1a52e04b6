/** GET /v1/environments — list, filtered by repository, branch or status; paginated by cursor. */
import { httpHandler } from '#commons/http-handler.ts';
import { listEnvironments } from '#adapters/environment-store.ts';
import { listScope } from '#domain/caller.ts';
import { toRepresentation } from '#domain/environment.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { STATUSES, type Status } from '#domain/lifecycle.ts';
import { parseLimit } from './list-parameters.ts';

const FILTERS = new Set(['repository', 'branch', 'status', 'limit', 'cursor']);

export const handler = httpHandler(async (request) => {
  const { repository, branch, status, limit, cursor } = request.query;
  const unknown = Object.keys(request.query).filter((key) => !FILTERS.has(key));
  if (unknown.length) {
    throw new ValidationFailed('unknown query parameters', unknown.map((path) => ({ path, message: 'not a filter of this list' })));
  }
  if (status !== undefined && !STATUSES.includes(status as Status)) {
    throw new ValidationFailed('invalid status filter', [{ path: 'status', message: `expected one of ${STATUSES.join(', ')}` }]);
  }
  // a repository caller lists only its repositories, through the byRepository index (functions/domain/caller.ts listScope)
  const scope = listScope(request.principal, repository);
  if (scope.kind === 'ambiguous') throw new ValidationFailed('name the repository to list', [{ path: 'repository', message: scope.message }]);
  if (scope.kind === 'nothing') {
    parseLimit(limit);
    return { status: 200, body: { items: [], nextCursor: null } };
  }
  const page = await listEnvironments({ repository: scope.repository, branch, status: status as Status | undefined, limit: parseLimit(limit), cursor });
  return { status: 200, body: { items: page.items.map(toRepresentation), nextCursor: page.nextCursor } };
});
