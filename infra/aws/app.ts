/**
 * The CDK app (`cdk.json`: `npx tsx infra/aws/app.ts`). Settings come from context: see
 * infra/aws/config.ts and the `//` notes in cdk.json. Synth needs no AWS account: without
 * `account`/`region` context the stack is environment-agnostic.
 */
import { App } from 'aws-cdk-lib';
import { readConfig } from './config.ts';
import { FledgeStack } from './fledge-stack.ts';

const app = new App();
const config = readConfig((key) => app.node.tryGetContext(key));
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'Fledge';

new FledgeStack(app, stackName, {
  config,
  description: 'Fledge: serverless control plane for preview environments on ECS Fargate',
  env: config.account || config.region ? { account: config.account, region: config.region } : undefined,
  // Not `fledge:managed-by`: that tag marks per-environment resources, which cleanup may remove.
  tags: { 'fledge:component': 'control-plane' },
});

app.synth();
