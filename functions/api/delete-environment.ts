/** DELETE /v1/environments/{name} — teardown; stops any running operation first. */
import { httpHandler } from '#lambda/http-handler.ts';
import { deleteEnvironment } from '#commands/environment-commands.ts';
import { parseName } from '#domain/spec-validation.ts';
import { commandResponse } from './responses.ts';

export const handler = httpHandler(
  async (request) => {
    const name = parseName(request.pathName);
    return commandResponse(await deleteEnvironment(name, request, request.ifMatch));
  },
  { idempotent: true },
);
