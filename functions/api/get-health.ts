/** GET /v1/health — liveness and version. */
import { apiConfig, localMode } from '#runtime/config.ts';
import { httpHandler } from '#lambda/http-handler.ts';

export const handler = httpHandler(async () => ({
  status: 200,
  body: { status: 'ok', version: apiConfig().version, mode: localMode().local ? 'local' : 'aws' },
}));
