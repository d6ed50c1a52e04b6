/**
 * Synthesizes the Fledge stack for the infra tests, with the real handlers and the real ASL
 * files: nothing is mocked. The Lambdas are not bundled unless a test asks (`bundle: true`):
 * bundling the 15 of them takes seconds per stack, and only a test of the bundles looks at
 * them; the template is the same but for the assets' hashes. Each test file synthesizes once
 * (beforeAll) and shares the result.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../infra/aws/config.ts';
import { FledgeStack } from '../../infra/aws/fledge-stack.ts';

export interface Synthesized {
  app: App;
  stack: FledgeStack;
  template: Template;
  /** the cloud assembly's directory (with `bundle: true`, the bundles are in its asset.* folders) */
  outdir: string;
  /** removes the cloud assembly (bundles) written to a temp directory */
  dispose(): void;
}

/**
 * CDK's own switch for skipping asset bundling (what `cdk synth --exclusively` uses for the
 * stacks it leaves out): an App context of stack patterns to bundle, here none or all. Every
 * asset with bundling options, NodejsFunction's included, is then staged without running
 * esbuild (AssetStaging checks Stack.bundlingRequired; AWS CDK API reference, core.Stack
 * "bundlingRequired", and aws/aws-cdk#18125).
 */
export function bundlingContext(bundle: boolean): Record<string, string[]> {
  return { [BUNDLING_STACKS]: bundle ? ['**'] : [] };
}

export function synthFledge(
  context: Record<string, unknown> = {},
  env?: { account: string; region: string },
  { bundle = false }: { bundle?: boolean } = {},
): Synthesized {
  const config = readConfig((key) => context[key]); // a ConfigError stops synth before anything is written
  const outdir = mkdtempSync(join(tmpdir(), 'fledge-cdk-'));
  const app = new App({ outdir, context: bundlingContext(bundle) });
  const stack = new FledgeStack(app, 'Fledge', { config, env });
  const template = Template.fromStack(stack);
  return { app, stack, template, outdir, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** The context of a "production-like" deployment: existing VPC, certificate, concrete env. */
export const PRODUCTION_CONTEXT = {
  vpcId: 'vpc-0123456789abcdef0',
  publicSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2',
  privateSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0f0f0f-1111-2222-3333-444444444444',
  baseDomain: 'preview.acme.dev',
  installationId: 'acme1',
  maxTtl: '14d',
  quotaGlobal: 50,
  quotaPerRepository: 10,
  logRetentionDays: 90,
  tableKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
  // two repositories whose environments use secrets, each with its own execution role
  secretRepositories: ['acme/web', 'acme/billing'],
  // the operator's own (discounted) Fargate prices for cost estimates
  fargatePrices: { vcpuHour: 0.0364, gbHour: 0.004 },
};
export const PRODUCTION_ENV = { account: '123456789012', region: 'eu-west-1' };
