/**
 * `npm run lint` (after ESLint): writes the generated OpenAPI document to a temporary file and
 * lints it with Redocly's recommended rules (redocly.yaml at the root). Exits with redocly's code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '#contract/openapi.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'fledge-openapi-'));
try {
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(openApiDocument(), null, 2));
  const redocly = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'redocly.cmd' : 'redocly');
  const result = spawnSync(redocly, ['lint', file, '--config', join(root, 'redocly.yaml'), '--max-problems', '50'], { stdio: 'inherit', cwd: root });
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
