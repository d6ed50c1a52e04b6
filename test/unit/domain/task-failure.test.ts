import { describe, expect, it } from 'vitest';
import { classifyFailure, classifyStoppedTask, classifyWorkflowError } from '../../../functions/domain/task-failure.ts';
import { dnsNameInUseMessage } from '../../../functions/domain/dns-records.ts';
import { failureSide } from '../../../functions/domain/failure-side.ts';

describe('classifying why a deployment failed', () => {
  it('an image that cannot be pulled is IMAGE_PULL_FAILED', () => {
    expect(classifyStoppedTask({
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ghcr.io/acme/web:nope: not found',
    })).toMatchObject({ code: 'IMAGE_PULL_FAILED' });
  });

  it('a container killed for memory is OUT_OF_MEMORY', () => {
    expect(classifyStoppedTask({
      stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited',
      containers: [{ name: 'app', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }],
    })).toMatchObject({ code: 'OUT_OF_MEMORY' });
  });

  it('a container that exits on its own is TASK_EXITED with the exit code in the message', () => {
    const result = classifyStoppedTask({
      stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{ name: 'app', exitCode: 3 }],
    });
    expect(result).toEqual({ code: 'TASK_EXITED', message: 'the container exited with exit code 3' });
  });

  it('a task stopped by failing ALB health checks is HEALTH_CHECK_FAILED', () => {
    expect(classifyStoppedTask({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/pr-1/abc)',
    })).toMatchObject({ code: 'HEALTH_CHECK_FAILED' });
  });

  it('a task stopped by a scale-in or a deployment is no evidence', () => {
    expect(classifyStoppedTask({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)' })).toBeUndefined();
  });

  it('the most frequent task reason wins over the workflow error', () => {
    const tasks = [
      { stoppedReason: 'Task failed ELB health checks in (target-group x)', stoppedAt: '2026-01-01T00:00:03Z' },
      { stoppedReason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', containers: [{ exitCode: 1 }], stoppedAt: '2026-01-01T00:00:02Z' },
      { stoppedReason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', containers: [{ exitCode: 1 }], stoppedAt: '2026-01-01T00:00:01Z' },
    ];
    expect(classifyFailure({ Error: 'States.Timeout' }, tasks).code).toBe('TASK_EXITED');
  });

  it('without task evidence: a timeout is TIMEOUT, a limit is AWS_LIMIT, the rest INTERNAL', () => {
    expect(classifyFailure({ Error: 'States.Timeout', Cause: '' }, []).code).toBe('TIMEOUT');
    expect(classifyWorkflowError({ Error: 'ElasticLoadBalancingV2.TooManyRulesException', Cause: 'too many rules' }).code).toBe('AWS_LIMIT');
    expect(classifyWorkflowError({ Error: 'Ecs.ThrottlingException', Cause: 'Rate exceeded' }).code).toBe('AWS_LIMIT');
    expect(classifyWorkflowError({ Error: 'Ecs.ClientException', Cause: 'bad (Service: Ecs, Status Code: 400)' })).toEqual({
      code: 'INTERNAL', message: "a workflow step failed (Ecs.ClientException); the operators' logs have the details",
    });
  });

  it("never quotes an AWS error's Cause: the error's name and plain words only", () => {
    const cause = 'User: arn:aws:sts::123456789012:assumed-role/fledge-sfn/abc is not authorized to perform: ecs:CreateService (Service: Ecs, Status Code: 400, Request ID: 1f2e)';
    const error = classifyWorkflowError({ Error: 'Ecs.AccessDeniedException', Cause: cause });
    expect(error).toEqual({ code: 'INTERNAL', message: "a workflow step failed (Ecs.AccessDeniedException); the operators' logs have the details" });
    // a task Lambda that let an SDK error through: its errorMessage is AWS's text too
    const lambda = classifyWorkflowError({ Error: 'AccessDeniedException', Cause: JSON.stringify({ errorType: 'AccessDeniedException', errorMessage: cause, stackTrace: ['at x (/var/task/index.mjs:1:1)'] }) });
    expect(lambda.message).not.toMatch(/arn:|123456789012|Request ID|stack|index\.mjs/);
    const limit = classifyWorkflowError({ Error: 'Ecs.ThrottlingException', Cause: `Rate exceeded for arn:aws:ecs:eu-west-1:123456789012:cluster/x` });
    expect(limit.message).toBe('an AWS limit was hit and retries did not get past it (Ecs.ThrottlingException)');
    // a name that is not a plain identifier is not shown either
    expect(classifyWorkflowError({ Error: 'arn:aws:iam::123456789012:role/x', Cause: '' }).message).not.toMatch(/arn:|123456789012/);
  });

  it("keeps the words of Fledge's own errors, and ECS's deployment reason without ARNs", () => {
    expect(classifyWorkflowError({ Error: 'HealBoundReached', Cause: 'the environment is still broken' }).message).toBe('HealBoundReached: the environment is still broken');
    expect(classifyWorkflowError({ Error: 'DeploymentFailed', Cause: JSON.stringify({ errorMessage: 'ECS deployment circuit breaker: tasks failed to start.' }) }).message)
      .toBe('the deployment failed: ECS deployment circuit breaker: tasks failed to start.');
  });

  it('keeps the useful part of an ECS stopped reason and drops its ARN and account id', () => {
    const health = classifyStoppedTask({
      stoppedReason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/local-pr-42-1a2b3c4d/0123abcd0123abcd)',
      stopCode: 'ServiceSchedulerInitiated',
    });
    expect(health).toEqual({ code: 'HEALTH_CHECK_FAILED', message: 'the task failed its health checks: Task failed ELB health checks in (target-group targetgroup/local-pr-42-1a2b3c4d/0123abcd0123abcd)' });
    const pull = classifyStoppedTask({
      stoppedReason: 'CannotPullContainerError: pull access denied for 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web, repository does not exist',
      stopCode: 'TaskFailedToStart',
    });
    expect(pull?.code).toBe('IMAGE_PULL_FAILED');
    expect(pull?.message).not.toMatch(/123456789012/);
    const secret = classifyStoppedTask({
      stoppedReason: 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/exec/1 is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:eu-west-1:123456789012:secret:fledge/other/repo/db-AbCdEf',
      stopCode: 'TaskFailedToStart',
    });
    expect(secret?.code).toBe('TASK_EXITED');
    expect(secret?.message).toMatch(/secrets or registry credentials could not be read/);
    expect(secret?.message).not.toMatch(/arn:|123456789012|assumed-role|fledge\/other/);
  });

  it("a create the pool has no room for (PlanResources' LoadBalancersFull) is QUOTA_EXCEEDED, in Fledge's words", () => {
    const message = "the installation's 3 load balancers are full (99 environments each): delete an environment or grow the pool (maxEnvironments)";
    expect(classifyWorkflowError({ Error: 'LoadBalancersFull', Cause: JSON.stringify({ errorType: 'LoadBalancersFull', errorMessage: message }) }))
      .toEqual({ code: 'QUOTA_EXCEEDED', message });
    expect(classifyFailure({ Error: 'LoadBalancersFull', Cause: '' }, [])).toEqual({ code: 'QUOTA_EXCEEDED', message: "the installation's load balancers are full" });
  });

  it("a create whose name another record holds in the hosted zone (DnsNameInUse) is DNS_NAME_IN_USE, in Fledge's words, the user's to act on", () => {
    const message = dnsNameInUseMessage('www.preview.example.com.');
    expect(message).toBe('the DNS name www.preview.example.com is already used in the hosted zone by a record Fledge does not manage; Fledge leaves it alone: choose another environment name, or ask the operator to free the name');
    // PlanResources' or RecheckDnsRecord's Lambda error (Cause: the Lambda's JSON), and a Cause in plain words
    expect(classifyFailure({ Error: 'DnsNameInUse', Cause: JSON.stringify({ errorType: 'DnsNameInUse', errorMessage: message }) }, [])).toEqual({ code: 'DNS_NAME_IN_USE', message });
    expect(classifyWorkflowError({ Error: 'DnsNameInUse', Cause: dnsNameInUseMessage() })).toEqual({ code: 'DNS_NAME_IN_USE', message: dnsNameInUseMessage() });
    expect(classifyWorkflowError({ Error: 'DnsNameInUse' })).toEqual({ code: 'DNS_NAME_IN_USE', message: dnsNameInUseMessage() });
    expect(failureSide('DNS_NAME_IN_USE')).toBe('user');
    // Route 53's own refusal elsewhere is not taken for it
    expect(classifyWorkflowError({ Error: 'Route53.InvalidChangeBatchException', Cause: 'Tried to create resource record set' }).code).toBe('INTERNAL');
  });
});
