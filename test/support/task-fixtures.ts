/**
 * The world of the workflow task and ECS event handler tests (test/unit/tasks, test/unit/events):
 * the deployment's ARNs, an environment item in the middle of an update, and the deployment
 * settings the stack gives these Lambdas (functions/runtime/runtime-config.ts reads them).
 */
import { afterEach, beforeAll, beforeEach, vi } from 'vitest';
import { resetClients } from '../../functions/adapters/aws-clients.ts';
import { resetConfig } from '../../functions/runtime/config.ts';
import { environmentSpecSchema } from '../../functions/domain/environment-spec.ts';

export const CLUSTER = 'arn:aws:ecs:eu-west-1:000000000000:cluster/fledge';
export const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:000000000000:listener/app/fledge/abc/def';
// task definitions are content-addressed and shared between environments (docs/design.md "Shared task definitions")
export const FAMILY = 'fledge-td-0123456789abcdef0123456789abcdef';
export const TD1 = `arn:aws:ecs:eu-west-1:000000000000:task-definition/${FAMILY}:1`;
export const TD2 = `arn:aws:ecs:eu-west-1:000000000000:task-definition/${FAMILY}:2`;
export const SERVICE = 'arn:aws:ecs:eu-west-1:000000000000:service/fledge/pr-1';

export const spec = (image = 'ghcr.io/acme/web:1.0') =>
  environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 }).parse({ image, labels: { repository: 'acme/web' } });

/** pr-1 as stored while its update (op-1) runs, from 1.0 to 2.0 */
export const item = (overrides: Record<string, unknown> = {}) => ({
  pk: 'ENV#pr-1', sk: 'ENV', name: 'pr-1', spec: spec('ghcr.io/acme/web:2.0'), specVersion: 2, status: 'UPDATING', version: 7,
  runningCount: 1, operation: { id: 'op-1', type: 'update', status: 'RUNNING', startedAt: '2026-01-01T00:00:00Z' },
  listenerPriority: 1234, lastHealthyImage: 'ghcr.io/acme/web:1.0', healthyImages: ['ghcr.io/acme/web:1.0'],
  ...overrides,
});

/**
 * Call at the top of a test file, before its own hooks: the deployment settings in the
 * environment before its tests; before each test the SDK clients and the configuration are
 * dropped (made again, lazily), and after each the clients again and any fake timers.
 */
export function useTaskEnvironment(): void {
  beforeAll(() => {
    Object.assign(process.env, {
      TABLE_NAME: 'fledge', FLEDGE_INSTALLATION_ID: 'test', FLEDGE_CLUSTER_ARN: CLUSTER, FLEDGE_LISTENER_ARN: LISTENER, FLEDGE_SUBNET_IDS: 'subnet-a',
      FLEDGE_SECURITY_GROUP_IDS: 'sg-1', FLEDGE_EXECUTION_ROLE_ARN: 'arn:aws:iam::000000000000:role/exec',
      FLEDGE_TASK_ROLE_ARN: 'arn:aws:iam::000000000000:role/task', FLEDGE_LOG_GROUP: '/fledge', FLEDGE_BASE_DOMAIN: 'preview.example.com',
    });
    delete process.env.FLEDGE_DYNAMODB_ENDPOINT;
  });
  beforeEach(() => {
    resetClients();
    resetConfig();
  });
  afterEach(() => {
    resetClients();
    vi.useRealTimers();
  });
}
