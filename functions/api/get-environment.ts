/** GET /v1/environments/{name} — one environment, with `ETag: "<version>"`. */
import { httpHandler } from '#lambda/http-handler.ts';
import { getEnvironment } from '#adapters/environment-store.ts';
import { visibleOrNotFound } from '#commands/environment-commands.ts';
import { parseName } from '#domain/spec-validation.ts';
import { environmentResponse } from './responses.ts';

export const handler = httpHandler(async (request) => {
  const name = parseName(request.pathName);
  // another repository's environment is the same 404 as an unknown name
  return environmentResponse(visibleOrNotFound(request, name, await getEnvironment(name)));
});
