/** GET /v1/environments/{name} — one environment, with `ETag: "<version>"`. */
import { httpHandler } from '#lambda/http-handler.ts';
import { readEnvironment } from '#commands/environment-queries.ts';
import { parseName } from '#domain/spec-validation.ts';
import { environmentResponse } from './responses.ts';

export const handler = httpHandler(async (request) => environmentResponse(await readEnvironment(request, parseName(request.pathName))));
