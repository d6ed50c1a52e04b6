/**
 * Synthesizes the Fledge stack for the infra tests, with the real handlers bundled by the
 * local esbuild and the real ASL files: nothing is mocked. Bundling the 15 Lambdas takes a
 * few seconds per stack, so each test file synthesizes once (beforeAll) and shares the result.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../infra/aws/config.ts';
import { FledgeStack } from '../../infra/aws/fledge-stack.ts';

export interface Synthesized {
  app: App;
  stack: FledgeStack;
  template: Template;
  /** removes the cloud assembly (bundles) written to a temp directory */
  dispose(): void;
}

export function synthFledge(context: Record<string, unknown> = {}, env?: { account: string; region: string }): Synthesized {
  const config = readConfig((key) => context[key]); // a ConfigError stops synth before anything is written
  const outdir = mkdtempSync(join(tmpdir(), 'fledge-cdk-'));
  const app = new App({ outdir });
  const stack = new FledgeStack(app, 'Fledge', { config, env });
  const template = Template.fromStack(stack);
  return { app, stack, template, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
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
};
export const PRODUCTION_ENV = { account: '123456789012', region: 'eu-west-1' };
