/** GET /v1/health — liveness and version. */
import { apiConfig } from '#runtime/api-config.ts';
import { httpHandler } from '#lambda/http-handler.ts';

export const handler = httpHandler(async () => ({
  status: 200,
  body: { status: 'ok', version: apiConfig().version, mode: process.env.FLEDGE_LOCAL_MODE === 'true' ? 'local' : 'aws' },
}));
