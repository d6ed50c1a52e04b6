/** GET /v1/environments/{name}/logs — the environment's container output, oldest first; paginated by cursor. */
import { httpHandler } from '#lambda/http-handler.ts';
import { listVisibleLogs } from '#commands/environment-logs.ts';
import { decodeLogCursor, DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT, parseSince } from '#domain/log-query.ts';
import { parseName } from '#domain/spec-validation.ts';
import { parseCursor, parseLimit, refuseUnknownParameters } from './list-parameters.ts';
import { itemsThatFit } from './responses.ts';

export const handler = httpHandler(async (request) => {
  const name = parseName(request.pathName);
  refuseUnknownParameters(request.query, ['since', 'limit', 'cursor'], 'the logs list');
  const since = parseSince(request.query.since, Date.now());
  const limit = parseLimit(request.query.limit, { byDefault: DEFAULT_LOG_LIMIT, max: MAX_LOG_LIMIT });
  const raw = parseCursor(request.query.cursor);
  const cursor = raw === undefined ? undefined : decodeLogCursor(raw, name);
  const page = await listVisibleLogs(request, name, { since, limit, cursor });
  // long lines can pass Lambda's response limit: the page is cut short and continues after its last line
  const fitting = itemsThatFit(page.items);
  const nextCursor = fitting < page.items.length ? page.cursorAfter(fitting) : page.nextCursor;
  return { status: 200, body: { items: page.items.slice(0, fitting), ...(nextCursor ? { nextCursor } : {}) } };
});
