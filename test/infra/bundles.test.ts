/**
 * The Lambda bundles, the one infra test that bundles (the others synthesize without it,
 * test/infra/synth-fledge.ts): every Fledge Lambda of the stack is bundled by the local
 * esbuild (no Docker) into one ESM module with the `require` banner, and its source map.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { synthFledge, type Synthesized } from './synth-fledge.ts';

let synth: Synthesized;

beforeAll(() => {
  const started = Date.now();
  synth = synthFledge({}, undefined, { bundle: true });
  console.info(`infra: synthesized and bundled the Fledge stack in ${Date.now() - started} ms`);
});

afterAll(() => synth?.dispose());

it('bundles every Lambda with the local esbuild into one ESM module with its source map', () => {
  // the shard pool item's provider (infra/aws/shards.ts) is CDK's prebuilt code: nothing to bundle
  const provider = synth.stack.getLogicalId(synth.stack.node.findChild('AWS679f53fac002430cb0da5b7982bd2287').node.defaultChild as never);
  const functions = Object.entries(synth.template.findResources('AWS::Lambda::Function')).filter(([id]) => id !== provider);
  expect(functions.length).toBeGreaterThan(0);
  for (const [id, fn] of functions) {
    const key: string = fn.Properties.Code?.S3Key;
    expect(key, id).toMatch(/\.zip$/);
    // the default synthesizer names an asset's S3 key and its staging folder by the asset hash
    const asset = join(synth.outdir, `asset.${key.replace(/\.zip$/, '')}`);
    expect(readFileSync(join(asset, 'index.mjs'), 'utf8'), id).toMatch(/^import \{ createRequire as __fledgeCreateRequire \} from 'node:module';/);
    expect(existsSync(join(asset, 'index.mjs.map')), id).toBe(true);
  }
});

it("stages the shard pool item's provider as CDK ships it, without bundling", () => {
  const provider = synth.stack.node.findChild('AWS679f53fac002430cb0da5b7982bd2287').node.defaultChild as never;
  const key: string = synth.template.toJSON().Resources[synth.stack.getLogicalId(provider)].Properties.Code.S3Key;
  expect(existsSync(join(synth.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.js'))).toBe(true);
});
