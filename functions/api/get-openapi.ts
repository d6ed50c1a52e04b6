/** GET /v1/openapi.json — the OpenAPI 3.1 document of the API (functions/contract/openapi.ts). */
import { httpHandler } from '#lambda/http-handler.ts';
import { openApiDocument } from '#contract/openapi.ts';

export const handler = httpHandler(async () => ({ status: 200, body: openApiDocument() }));
