/** PUT /v1/environments/{name} — create or update to the given spec (the CI verb). */
import { httpHandler } from '#lambda/http-handler.ts';
import { putEnvironment } from '#commands/environment-commands.ts';
import { parseName, parseSpec } from '#domain/spec-validation.ts';
import { apiConfig } from '#runtime/config.ts';
import { commandResponse } from './responses.ts';

export const handler = httpHandler(
  async (request) => {
    const name = parseName(request.pathName);
    const spec = parseSpec(request.body, apiConfig());
    return commandResponse(await putEnvironment(name, spec, request, request.ifMatch));
  },
  { requiresBody: true, idempotent: true },
);
