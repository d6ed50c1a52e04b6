/** POST /v1/environments/{name}/heal — reconcile now (202); 409 while another operation runs. */
import { healPolicy } from '#runtime/config.ts';
import { httpHandler } from '#lambda/http-handler.ts';
import { healEnvironment } from '#commands/heal-commands.ts';
import { parseName } from '#domain/spec-validation.ts';
import { commandResponse } from './responses.ts';

export const handler = httpHandler(
  async (request) => {
    const name = parseName(request.pathName);
    return commandResponse(await healEnvironment(name, request, healPolicy(), request.ifMatch));
  },
  { idempotent: true },
);
