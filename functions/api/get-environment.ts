/** GET /v1/environments/{name} — one environment, with `ETag: "<version>"`. */
import { httpHandler } from '#commons/http-handler.ts';
import { getEnvironment } from '#adapters/environment-store.ts';
import { EnvironmentNotFound } from '#domain/errors.ts';
import { parseName } from '#domain/spec-validation.ts';
import { environmentResponse } from './responses.ts';

export const handler = httpHandler(async (request) => {
  const name = parseName(request.pathName);
  const record = await getEnvironment(name);
  if (!record) throw new EnvironmentNotFound(name);
  return environmentResponse(record);
});
