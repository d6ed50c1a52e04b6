/** GET /v1/environments — list, filtered by repository, branch or status; paginated by cursor. */
import { httpHandler } from '#lambda/http-handler.ts';
import { listVisibleEnvironments, repositoryEnvironments } from '#commands/environment-queries.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { STATUSES, type Status } from '#domain/lifecycle.ts';
import { parseCursor, parseLabelFilter, parseLimit, refuseUnknownParameters } from './list-parameters.ts';
import { costOf, environmentView, itemsThatFit } from './responses.ts';

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
  const now = new Date();
  const items = page.items.map((record) => environmentView(record, now));
  // a page of large specs is cut short to fit Lambda's response limit, and continues after its last item
  const fitting = itemsThatFit(items);
  const nextCursor = fitting < items.length ? page.cursorAfter(items[fitting - 1]!.name) : page.nextCursor;
  // a repository's list totals the cost of all its live environments, not only this page's (README "Cost")
  const cost = repository === undefined ? undefined : costOf(await repositoryEnvironments(request, repository), now);
  return { status: 200, body: { items: items.slice(0, fitting), nextCursor, ...(cost ? { cost } : {}) } };
});
