/**
 * Bundles the GitHub Action (`npm run build:action`): action/dist/index.mjs from action/src/main.ts
 * and, beside it, the `fledge` CLI (action/dist/fledge.mjs), each one file with its
 * dependencies, so `uses:` runs them without an install step. The bundles are committed
 * (GitHub runs what the repository holds at the ref a workflow names);
 * test/unit/action/action-bundle.test.ts fails when they differ from what this writes.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { CLI_BUNDLE } from './src/fledge-runner.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'action', 'dist');

/** The CLI's module (`run()` is what bin/fledge.mjs calls). Until it exists only the Action is bundled. */
export const CLI_ENTRY = join(ROOT, 'cli', 'fledge.ts');

/** bundle file name under action/dist/ -> what esbuild bundles into it */
export function bundleEntries(): Record<string, Pick<BuildOptions, 'entryPoints' | 'stdin'>> {
  return {
    'index.mjs': { entryPoints: [join(ROOT, 'action', 'src', 'main.ts')] },
    // the command as bin/fledge.mjs runs it, with every package inside (the npm package's bundle keeps them external)
    ...(existsSync(CLI_ENTRY)
      ? { [CLI_BUNDLE]: { stdin: { contents: "import { run } from './cli/fledge.ts';\nawait run();\n", resolveDir: ROOT, sourcefile: 'fledge-entry.ts', loader: 'ts' } } }
      : {}),
  };
}

const OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // action.yml runs node24; the same bundle runs on the repository's Node 22 in tests
  target: 'node22',
  minify: true,
  // the bundled packages' licence notices stay with their code
  legalComments: 'eof',
  // CommonJS dependencies inside an ES module still call require() for Node's built-ins
  banner: { js: "import { createRequire as __fledgeRequire } from 'node:module'; const require = __fledgeRequire(import.meta.url);" },
  absWorkingDir: ROOT,
  logLevel: 'silent',
  write: false,
};

/** file name under action/dist/ -> its text */
export async function renderBundles(): Promise<Record<string, string>> {
  const rendered: Record<string, string> = {};
  for (const [file, entry] of Object.entries(bundleEntries())) {
    const result = await build({ ...OPTIONS, ...entry, outfile: join(DIST, file) });
    const [output] = result.outputFiles ?? [];
    if (!output) throw new Error(`esbuild wrote nothing for action/dist/${file}`);
    rendered[file] = output.text;
  }
  return rendered;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(DIST, { recursive: true });
  if (!existsSync(CLI_ENTRY)) console.warn(`${relative(ROOT, CLI_ENTRY)} does not exist: bundled the Action without the CLI`);
  for (const [file, text] of Object.entries(await renderBundles())) {
    writeFileSync(join(DIST, file), text);
    console.log(`action/dist/${file}: ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB`);
  }
}
