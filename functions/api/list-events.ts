/** GET /v1/environments/{name}/events — history, newest first; paginated by cursor. */
import { httpHandler } from '#commons/http-handler.ts';
import { listEvents } from '#adapters/event-log.ts';
import { decodeEventCursor, encodeCursor, eventsQueryId, getEnvironment } from '#adapters/environment-store.ts';
import { EnvironmentNotFound } from '#domain/errors.ts';
import { parseName } from '#domain/spec-validation.ts';
import { parseCursor, parseLimit } from './list-parameters.ts';

export const handler = httpHandler(async (request) => {
  const name = parseName(request.pathName);
  const limit = parseLimit(request.query.limit);
  const cursor = parseCursor(request.query.cursor);
  const startKey = cursor === undefined ? undefined : decodeEventCursor(cursor, name);
  if (!(await getEnvironment(name))) throw new EnvironmentNotFound(name);
  const page = await listEvents(name, limit, startKey);
  return { status: 200, body: { items: page.items, nextCursor: page.lastKey ? encodeCursor(eventsQueryId(name), page.lastKey) : null } };
});
