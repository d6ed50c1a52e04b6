/** POST /v1/environments — create (the name is in the body); 409 if a live environment has it. */
import { httpHandler } from '#lambda/http-handler.ts';
import { createEnvironment } from '#commands/environment-commands.ts';
import { parseName, parseSpec } from '#domain/spec-validation.ts';
import { apiConfig } from '#runtime/config.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { commandResponse } from './responses.ts';

export const handler = httpHandler(
  async (request) => {
    if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
      throw new ValidationFailed('the request body must be a JSON object', [{ path: '', message: 'expected an object' }]);
    }
    const { name, ...fields } = request.body as Record<string, unknown>;
    const validName = parseName(name);
    return commandResponse(await createEnvironment(validName, parseSpec(fields, apiConfig()), request));
  },
  { requiresBody: true, idempotent: true },
);
