#!/usr/bin/env node
// The `fledge` command. A published package runs its bundle, dist/fledge.mjs (built by
// `npm pack`/`npm publish` through the prepack script, removed again by postpack); a clone
// has no bundle and runs the TypeScript source through tsx from node_modules.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const bundle = new URL('../dist/fledge.mjs', import.meta.url);
let entry;
if (existsSync(bundle)) entry = await import(bundle.href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = await import(new URL('../cli/fledge.ts', import.meta.url).href);
}
await entry.run();
