/** GET /v1/environments/{name}/events — history, newest first; paginated by cursor. */
import { httpHandler } from '#lambda/http-handler.ts';
import { eventsSinceKey, listEvents } from '#adapters/event-log.ts';
import { isOperator } from '#domain/caller.ts';
import { decodeEventCursor, encodeCursor, eventsQueryId, getEnvironment } from '#adapters/environment-store.ts';
import { visibleOrNotFound } from '#commands/environment-commands.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { parseName } from '#domain/spec-validation.ts';
import { parseCursor, parseLimit, refuseUnknownParameters } from './list-parameters.ts';

export const handler = httpHandler(async (request) => {
  const name = parseName(request.pathName);
  refuseUnknownParameters(request.query, ['limit', 'cursor'], 'the events list');
  const limit = parseLimit(request.query.limit);
  const cursor = parseCursor(request.query.cursor);
  const startKey = cursor === undefined ? undefined : decodeEventCursor(cursor, name);
  const record = visibleOrNotFound(request, name, await getEnvironment(name));
  // a repository caller sees the history of the name since its environment was created, not
  // that of an earlier environment (maybe another repository's) that held the name
  const since = isOperator(request.principal) ? undefined : record.createdAt;
  if (since && startKey && String(startKey.sk) < eventsSinceKey(since)) {
    throw new ValidationFailed('invalid cursor', [{ path: 'cursor', message: 'not a cursor returned by this list' }]);
  }
  const page = await listEvents(name, limit, startKey, since);
  return { status: 200, body: { items: page.items, nextCursor: page.lastKey ? encodeCursor(eventsQueryId(name), page.lastKey) : null } };
});
