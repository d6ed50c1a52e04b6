/** GET /v1/environments/{name}/events — history, newest first; paginated by cursor. */
import { httpHandler } from '#lambda/http-handler.ts';
import { listVisibleEvents } from '#commands/environment-queries.ts';
import { parseName } from '#domain/spec-validation.ts';
import { parseCursor, parseLimit, refuseUnknownParameters } from './list-parameters.ts';

export const handler = httpHandler(async (request) => {
  const name = parseName(request.pathName);
  refuseUnknownParameters(request.query, ['limit', 'cursor'], 'the events list');
  const limit = parseLimit(request.query.limit);
  const cursor = parseCursor(request.query.cursor);
  return { status: 200, body: await listVisibleEvents(request, name, limit, cursor) };
});
