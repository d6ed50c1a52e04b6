/** PATCH /v1/environments/{name} — partial update (RFC 7396 merge patch of the spec). */
import { httpHandler } from '#lambda/http-handler.ts';
import { patchEnvironment } from '#commands/environment-commands.ts';
import { applyPatch, parseName } from '#domain/spec-validation.ts';
import { apiConfig } from '#runtime/config.ts';
import { commandResponse } from './responses.ts';

export const handler = httpHandler(
  async (request) => {
    const name = parseName(request.pathName);
    return commandResponse(await patchEnvironment(name, (current) => applyPatch(current, request.body, apiConfig()), request, request.ifMatch));
  },
  { requiresBody: true, idempotent: true },
);
