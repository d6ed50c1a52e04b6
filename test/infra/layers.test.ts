/**
 * The layers of functions/ (docs/architecture.md) are enforced by `npm run lint`: ESLint's
 * no-restricted-imports per folder (eslint.config.js). Each bad import below, linted as a file
 * at that path, is an error; the imports a layer may make pass.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let eslint: ESLint;

/** The restricted-import errors of `code` placed at `path` (which need not exist). */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = x;\n`, { filePath: join(ROOT, path) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT, overrideConfigFile: join(ROOT, 'eslint.config.js') });
});

describe('the layers, enforced by npm run lint', () => {
  it.each([
    ['functions/domain/bad.ts', "import { x } from '#adapters/environment-store.ts';", /functions\/domain\/ imports only the domain/],
    ['functions/domain/bad.ts', "import { x } from '../adapters/environment-store.ts';", /functions\/domain\/ imports only the domain/],
    ['functions/domain/bad.ts', "import { x } from '@aws-sdk/client-ecs';", /functions\/domain\/ imports only the domain/],
    ['functions/domain/bad.ts', "import type { x } from 'aws-lambda';", /functions\/domain\/ imports only the domain/],
    ['functions/domain/bad.ts', "import { x } from '#runtime/config.ts';", /functions\/domain\/ imports only the domain/],
    ['functions/domain/bad.ts', "import type { x } from '#commands/heal-commands.ts';", /functions\/domain\/ imports only the domain/],
    ['functions/domain/bad.ts', "import { x } from '#lambda/problem.ts';", /functions\/domain\/ imports only the domain/],
    ['functions/contract/bad.ts', "import { x } from '#adapters/table-keys.ts';", /functions\/contract\/ imports only the domain, the contract, zod and zod-openapi/],
    ['functions/contract/bad.ts', "import { x } from '#runtime/config.ts';", /functions\/contract\/ imports only the domain, the contract, zod and zod-openapi/],
    ['functions/contract/bad.ts', "import { x } from '@aws-sdk/client-ecs';", /functions\/contract\/ imports only the domain, the contract, zod and zod-openapi/],
    ['functions/contract/bad.ts', "import { x } from 'zod-openapi/api';", /functions\/contract\/ imports only the domain, the contract, zod and zod-openapi/],
    ['functions/runtime/bad.ts', "import { x } from '#adapters/table-keys.ts';", /functions\/runtime\/ may not import functions\/adapters\//],
    ['functions/runtime/bad.ts', "import { x } from '../commands/idempotency.ts';", /functions\/runtime\/ may not import functions\/commands\//],
    ['functions/adapters/bad.ts', "import { x } from '#commands/environment-commands.ts';", /functions\/adapters\/ may not import functions\/commands\//],
    ['functions/adapters/clients/bad.ts', "import { x } from '../../lambda/problem.ts';", /functions\/adapters\/ may not import functions\/lambda\//],
    ['functions/commands/bad.ts', "import { x } from '#lambda/problem.ts';", /functions\/commands\/ may not import functions\/lambda\//],
    ['functions/commands/bad.ts', "import { x } from '@aws-sdk/client-sfn';", /functions\/commands\/ may not call AWS/],
    ['functions/lambda/bad.ts', "import { x } from '#adapters/idempotency-store.ts';", /functions\/lambda\/ may not import functions\/adapters\//],
    ['functions/api/bad.ts', "import { x } from '#adapters/environment-store.ts';", /a handler may not import functions\/adapters\//],
    ['functions/tasks/bad.ts', "import { x } from '../adapters/event-log.ts';", /a handler may not import functions\/adapters\//],
    ['functions/events/bad.ts', "import { x } from '@aws-sdk/client-elastic-load-balancing-v2';", /a handler may not call AWS/],
    ['functions/api/bad.ts', "import { x } from '../../infra/aws/app.ts';", /may not import infra\//],
    ['functions/adapters/clients/bad.ts', "import { x } from '../../../infra/local/main.ts';", /may not import infra\//],
    ['functions/contract/bad.ts', "import { x } from '../../infra/aws/config.ts';", /functions\/contract\/ imports only/],
    ['functions/domain/bad.ts', "export { x } from '../../infra/aws/config.ts';", /functions\/domain\/ imports only the domain/],
  ])('%s: %s is an error', async (path, code, message) => {
    const errors = await layerErrors(path, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it.each([
    ['functions/domain/good.ts', "import { x } from './errors.ts';\nimport { z } from 'zod';\nimport { createHash } from 'node:crypto';\nimport { isDeepStrictEqual } from 'node:util';"],
    ['functions/contract/good.ts', "import { x } from '#domain/alarms.ts';\nimport { y } from './routes.ts';\nimport * as z from 'zod';\nimport { createDocument } from 'zod-openapi';"],
    ['functions/runtime/good.ts', "import { x } from '#domain/durations.ts';\nimport { z } from 'zod';\nimport { y } from '#contract/routes.ts';"],
    ['functions/adapters/good.ts', "import { x } from '#runtime/config.ts';\nimport { y } from '#contract/table-definition.ts';\nimport { z } from '@aws-sdk/client-ecs';"],
    ['functions/commands/good.ts', "import { x } from '#adapters/environment-store.ts';\nimport { y } from '#domain/healing.ts';"],
    ['functions/lambda/good.ts', "import { x } from '#commands/idempotency.ts';\nimport type { y } from 'aws-lambda';"],
    ['functions/tasks/good.ts', "import { x } from '#commands/heal-commands.ts';\nimport { y } from '#lambda/task-handler.ts';\nimport { z } from '#runtime/config.ts';"],
    ['infra/aws/good.ts', "import { x } from '../../functions/adapters/table-keys.ts';"],
  ])('%s: what the layer may import passes', async (path, code) => {
    expect(await layerErrors(path, code)).toEqual([]);
  });
});
