/** POST /v1/environments/{name}/scale — desired count and/or autoscaling; 0 puts the environment to sleep. */
import { httpHandler } from '#lambda/http-handler.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { scaleEnvironment } from '#commands/scale-commands.ts';
import { scaleRequestSchema } from '#domain/scaling.ts';
import { parseName } from '#domain/spec-validation.ts';
import { commandResponse } from './responses.ts';

export const handler = httpHandler(
  async (request) => {
    const name = parseName(request.pathName);
    const parsed = scaleRequestSchema.safeParse(request.body);
    if (!parsed.success) {
      throw new ValidationFailed(
        'the scale request is invalid',
        parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
      );
    }
    return commandResponse(await scaleEnvironment(name, parsed.data, request, { ifMatch: request.ifMatch }));
  },
  { requiresBody: true, idempotent: true },
);
