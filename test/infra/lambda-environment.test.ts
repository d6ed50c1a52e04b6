/**
 * Lambda's 4 KB limit on a function's environment variables ("Lambda quotas"): the stack fails
 * `cdk synth` with a ConfigError naming the byte count and the biggest variables when the API
 * Lambdas' variables (with the operator's lists) could exceed it; references count at their
 * documented upper bound (infra/aws/lambda-environment.ts).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../infra/aws/config.ts';
import { checkLambdaEnvironmentSize, checkRequiredVariables, LAMBDA_ENVIRONMENT_LIMIT, lambdaEnvironmentSize, REFERENCE_BOUND } from '../../infra/aws/lambda-environment.ts';
import { synthFledge } from './synth-fledge.ts';

describe('the size of a Lambda environment', () => {
  const stack = new Stack(new App(), 'Size');
  const vpc = new ec2.CfnVPC(stack, 'Vpc', { cidrBlock: '10.0.0.0/16' });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

  it('counts literals exactly as the JSON object Lambda measures', () => {
    const environment = { A: 'x', LIST: 'acme/web,acme/billing', JSON: '["arn:aws:iam::1:role/*"]' };
    expect(lambdaEnvironmentSize(stack, environment).total).toBe(Buffer.byteLength(JSON.stringify(environment)));
  });

  it('counts a reference at its upper bound: an ARN 200 bytes, an EC2 id 32, the account id 12', () => {
    const { byName } = lambdaEnvironmentSize(stack, { R: role.roleArn, V: vpc.ref, A: stack.account, J: `${stack.account}:x` });
    expect(byName.R).toBe('"R":"",'.length + REFERENCE_BOUND);
    expect(byName.V).toBe('"V":"",'.length + 32);
    expect(byName.A).toBe('"A":"",'.length + 12);
    expect(byName.J).toBe('"J":"",'.length + 12 + 2);
  });

  it('refuses more than 4 KB with a ConfigError naming the byte count and the biggest variables', () => {
    const environment = { FLEDGE_IAM_REPOSITORIES: 'x'.repeat(LAMBDA_ENVIRONMENT_LIMIT), SMALL: 'y' };
    expect(() => checkLambdaEnvironmentSize(stack, environment, 'the API Lambdas')).toThrow(ConfigError);
    expect(() => checkLambdaEnvironmentSize(stack, environment, 'the API Lambdas')).toThrow(
      /the API Lambdas may take 41\d\d bytes, over Lambda's limit of 4096 bytes.*FLEDGE_IAM_REPOSITORIES \(41\d\d bytes\).*secretRepositories/,
    );
    expect(() => checkLambdaEnvironmentSize(stack, { SMALL: 'y' }, 'the API Lambdas')).not.toThrow();
  });
});

describe('the variables a kind of Lambda cannot run without (functions/runtime/config.ts)', () => {
  it('refuses at synth an environment that lacks one, naming it', () => {
    const machines = {
      FLEDGE_CREATE_STATE_MACHINE_ARN: 'a', FLEDGE_UPDATE_STATE_MACHINE_ARN: 'a', FLEDGE_TEARDOWN_STATE_MACHINE_ARN: 'a', FLEDGE_HEAL_STATE_MACHINE_ARN: 'a',
    };
    expect(() => checkRequiredVariables('api', { TABLE_NAME: 't', ...machines })).toThrow(ConfigError);
    expect(() => checkRequiredVariables('api', { TABLE_NAME: 't', ...machines })).toThrow(/the api Lambdas' environment lacks FLEDGE_SCALE_STATE_MACHINE_ARN,/);
    expect(() => checkRequiredVariables('api', { TABLE_NAME: 't', ...machines, FLEDGE_SCALE_STATE_MACHINE_ARN: 'a' })).not.toThrow();
  });
});

describe('the Fledge stack and its API Lambdas environment', () => {
  it('refuses at synth operator lists that would not fit, naming the bytes and the keys', () => {
    const iamRepositories = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`arn:aws:iam::123456789012:role/ci-deployer-of-team-${i}`, [`acme-corporation/service-number-${i}`]]),
    );
    const secretRepositories = Array.from({ length: 10 }, (_, i) => `acme-corporation/service-number-${i}`);
    let error: unknown;
    try {
      synthFledge({ iamRepositories, secretRepositories }).dispose();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/environment variables of the API Lambdas may take \d{4,} bytes, over Lambda's limit of 4096 bytes.*FLEDGE_IAM_REPOSITORIES \(\d+ bytes\)/);
  });
});
