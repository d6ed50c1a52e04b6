/**
 * The one config module (functions/runtime/config.ts): one error names every missing and every
 * invalid variable of a read; sections are parsed once per process until resetConfig().
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigurationError, missingVariables, readApiConfig, readFargatePrice, readRuntimeConfig, readVariables, resetConfig, runtimeConfig,
} from '../../../functions/runtime/config.ts';

const RUNTIME = {
  FLEDGE_INSTALLATION_ID: 'test', TABLE_NAME: 'fledge', FLEDGE_CLUSTER_ARN: 'arn:aws:ecs:eu-west-1:1:cluster/c', FLEDGE_LISTENER_ARN: 'arn:l',
  FLEDGE_SUBNET_IDS: 'subnet-a, subnet-b', FLEDGE_SECURITY_GROUP_IDS: 'sg-a', FLEDGE_EXECUTION_ROLE_ARN: 'arn:e', FLEDGE_TASK_ROLE_ARN: 'arn:t',
  FLEDGE_LOG_GROUP: '/fledge', FLEDGE_BASE_DOMAIN: '.preview.example.com.',
};

function errorOf(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('the one config module', () => {
  afterEach(() => {
    for (const name of Object.keys(RUNTIME)) delete process.env[name];
    resetConfig();
  });

  it('names every missing variable in one error, not only the first', () => {
    const error = errorOf(() => readRuntimeConfig({ TABLE_NAME: 'fledge' }));
    expect(error.missing).toEqual([
      'FLEDGE_INSTALLATION_ID', 'FLEDGE_CLUSTER_ARN', 'FLEDGE_LISTENER_ARN', 'FLEDGE_SUBNET_IDS', 'FLEDGE_SECURITY_GROUP_IDS',
      'FLEDGE_EXECUTION_ROLE_ARN', 'FLEDGE_TASK_ROLE_ARN', 'FLEDGE_LOG_GROUP', 'FLEDGE_BASE_DOMAIN',
    ]);
    expect(error.message).toBe(
      'Fledge configuration (Lambda environment) is incomplete: set FLEDGE_INSTALLATION_ID, FLEDGE_CLUSTER_ARN, FLEDGE_LISTENER_ARN, FLEDGE_SUBNET_IDS, ' +
        'FLEDGE_SECURITY_GROUP_IDS, FLEDGE_EXECUTION_ROLE_ARN, FLEDGE_TASK_ROLE_ARN, FLEDGE_LOG_GROUP, FLEDGE_BASE_DOMAIN',
    );
  });

  it('names each invalid value with what it should be, beside the missing ones', () => {
    const error = errorOf(() => readRuntimeConfig({ ...RUNTIME, FLEDGE_CLUSTER_ARN: ' ', FLEDGE_URL_SCHEME: 'ftp', FLEDGE_DELETED_RETENTION: 'a month' }));
    expect(error.missing).toEqual(['FLEDGE_CLUSTER_ARN']);
    expect(error.invalid).toEqual(['FLEDGE_URL_SCHEME: must be http or https, got "ftp"', 'FLEDGE_DELETED_RETENTION: must be a duration like "30d", got "a month"']);
    expect(error.message).toMatch(/incomplete: set FLEDGE_CLUSTER_ARN; FLEDGE_URL_SCHEME: must be http or https, got "ftp"; FLEDGE_DELETED_RETENTION: must be a duration/);
  });

  it('reports an invalid value alone as invalid', () => {
    const error = errorOf(() => readApiConfig({ FLEDGE_QUOTA_GLOBAL: '0', FLEDGE_ALLOW_PINNING: 'maybe', FLEDGE_ACCOUNT_ID: '12345' }));
    expect(error.missing).toEqual([]);
    expect(error.message).toBe(
      'Fledge configuration (Lambda environment) is invalid: FLEDGE_QUOTA_GLOBAL: must be a positive integer, got "0"; ' +
        'FLEDGE_ALLOW_PINNING: must be true or false, got "maybe"; FLEDGE_ACCOUNT_ID: must be a 12-digit account id, got "12345"',
    );
  });

  it('parses values, applies defaults and treats blank as unset', () => {
    const config = readRuntimeConfig({ ...RUNTIME, FLEDGE_URL_SCHEME: '', AWS_REGION: 'eu-west-1', FLEDGE_ASSIGN_PUBLIC_IP: 'true' });
    expect(config).toMatchObject({
      subnetIds: ['subnet-a', 'subnet-b'], baseDomain: 'preview.example.com', urlScheme: 'https', region: 'eu-west-1',
      assignPublicIp: 'ENABLED', deletedRetentionMs: 30 * 86_400_000,
    });
    expect(config.vpcId).toBeUndefined();
    expect(readVariables({}, ['FLEDGE_VPC_ID', 'FLEDGE_QUOTA_GLOBAL'])).toEqual({ FLEDGE_QUOTA_GLOBAL: 99 });
  });

  it('prices costs at the operator\'s FLEDGE_FARGATE_PRICES, else the table\'s for the region, else not at all', () => {
    expect(readFargatePrice({ AWS_REGION: 'eu-central-1' })).toEqual({ price: { vcpuHour: 0.04656, gbHour: 0.00511 } });
    expect(readFargatePrice({ AWS_REGION: 'eu-central-1', FLEDGE_FARGATE_PRICES: '{"vcpuHour": 0.03, "gbHour": 0.003}' })).toEqual({ price: { vcpuHour: 0.03, gbHour: 0.003 } });
    expect(readFargatePrice({ AWS_REGION: 'xx-nowhere-1' })).toEqual({});
    expect(errorOf(() => readFargatePrice({ FLEDGE_FARGATE_PRICES: '{"vcpuHour": "cheap", "gbHour": 0.003}' })).message).toMatch(/^Fledge configuration .* is invalid: FLEDGE_FARGATE_PRICES: must be \{"vcpuHour": <USD>, "gbHour": <USD>\}/);
    expect(errorOf(() => readFargatePrice({ FLEDGE_FARGATE_PRICES: '0.04' })).message).toContain('FLEDGE_FARGATE_PRICES');
  });

  it('parses a section once per process until resetConfig()', () => {
    Object.assign(process.env, RUNTIME);
    expect(runtimeConfig().tableName).toBe('fledge');
    process.env.TABLE_NAME = 'other';
    expect(runtimeConfig().tableName).toBe('fledge');
    resetConfig();
    expect(runtimeConfig().tableName).toBe('other');
  });

  it('tells which required variables an environment of a Lambda kind lacks (the CDK stack checks at synth)', () => {
    expect(missingVariables('task', RUNTIME)).toEqual([]);
    expect(missingVariables('api', RUNTIME)).toEqual([
      'FLEDGE_CREATE_STATE_MACHINE_ARN', 'FLEDGE_UPDATE_STATE_MACHINE_ARN', 'FLEDGE_TEARDOWN_STATE_MACHINE_ARN',
      'FLEDGE_SCALE_STATE_MACHINE_ARN', 'FLEDGE_HEAL_STATE_MACHINE_ARN',
    ]);
    const { TABLE_NAME: _, ...withoutTable } = RUNTIME;
    expect(missingVariables('task', withoutTable)).toEqual(['TABLE_NAME']);
  });
});
