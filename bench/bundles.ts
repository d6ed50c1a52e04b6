/**
 * Lambda bundles as `npm run synth` builds them (the synthesized assets in cdk.out): their
 * minified size, and the time a fresh Node 22 process takes to import each one. The AWS SDK
 * is not bundled (the runtime provides it), so the import resolves it from node_modules, as
 * Lambda resolves it from the runtime.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { percentile, round } from './stats.ts';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'cdk.out');
const SCRATCH = join(ROOT, 'bench', '.bundles');

interface TemplateResource {
  Type: string;
  Metadata?: Record<string, string>;
  Properties?: { Description?: string };
}

function lambdaAssets(): { name: string; dir: string }[] {
  const templateFile = readdirSync(OUT).find((f) => f.endsWith('.template.json'));
  if (!templateFile) throw new Error('no template in cdk.out');
  const template = JSON.parse(readFileSync(join(OUT, templateFile), 'utf8')) as { Resources: Record<string, TemplateResource> };
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path'])
    .map(([id, r]) => ({ name: id.replace(/Function[0-9A-F]{8}$/, ''), dir: join(OUT, r.Metadata!['aws:asset:path']!) }))
    // Fledge's own bundles only: the AwsCustomResource provider that writes the shard pool is
    // aws-cdk-lib's prebuilt index.js, not something this project builds or can make smaller
    .filter((a) => statSync(join(a.dir, 'index.mjs'), { throwIfNoEntry: false })?.isFile());
}

function coldImportMs(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, AWS_REGION: 'eu-west-1', TABLE_NAME: 'bench', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    encoding: 'utf8',
  });
  return Number(output);
}

export async function measureBundles(options: { smoke: boolean }) {
  execFileSync('npm', ['run', '-s', 'synth'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(SCRATCH, { recursive: true, force: true });
  const rows: Record<string, { bytes: number; coldImportMs: number }> = {};
  const assets = lambdaAssets();
  for (const asset of options.smoke ? assets.slice(0, 2) : assets) {
    const bundle = join(asset.dir, 'index.mjs');
    const copy = join(SCRATCH, asset.name, 'index.mjs');
    mkdirSync(join(SCRATCH, asset.name), { recursive: true });
    copyFileSync(bundle, copy);
    const runs = Array.from({ length: options.smoke ? 1 : 5 }, () => coldImportMs(copy));
    rows[asset.name] = { bytes: statSync(bundle).size, coldImportMs: round(percentile(runs, 50)) };
  }
  rmSync(SCRATCH, { recursive: true, force: true });
  const sizes = Object.values(rows).map((r) => r.bytes);
  const imports = Object.values(rows).map((r) => r.coldImportMs);
  return { functions: rows, maxBytes: Math.max(...sizes), maxColdImportMs: Math.max(...imports) };
}
