/** GET /v1/environments — list, filtered by repository, branch or status; paginated by cursor. */
import { httpHandler } from '#lambda/http-handler.ts';
import { listVisibleEnvironments } from '#commands/environment-queries.ts';
import { toRepresentation } from '#domain/environment.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { STATUSES, type Status } from '#domain/lifecycle.ts';
import { parseCursor, parseLabelFilter, parseLimit, refuseUnknownParameters } from './list-parameters.ts';
import { itemsThatFit } from './responses.ts';

const FILTERS = ['repository', 'branch', 'status', 'limit', 'cursor'] as const;

export const handler = httpHandler(async (request) => {
  const { status } = request.query;
  refuseUnknownParameters(request.query, FILTERS, 'this list');
  if (status !== undefined && !STATUSES.includes(status as Status)) {
    throw new ValidationFailed('invalid status filter', [{ path: 'status', message: `expected one of ${STATUSES.join(', ')}` }]);
  }
  const repository = parseLabelFilter('repository', request.query.repository);
  const limit = parseLimit(request.query.limit);
  const cursor = parseCursor(request.query.cursor);
  const page = await listVisibleEnvironments(request, {
    repository,
    branch: parseLabelFilter('branch', request.query.branch),
    status: status as Status | undefined,
    limit,
    cursor,
  });
  const items = page.items.map(toRepresentation);
  // a page of large specs is cut short to fit Lambda's response limit, and continues after its last item
  const fitting = itemsThatFit(items);
  const nextCursor = fitting < items.length ? page.cursorAfter(items[fitting - 1]!.name) : page.nextCursor;
  return { status: 200, body: { items: items.slice(0, fitting), nextCursor } };
});
