import { describe, expect, it } from 'vitest';
import { classifyFailure, classifyStoppedTask, classifyWorkflowError } from '../../../functions/domain/task-failure.ts';

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
      code: 'INTERNAL', message: 'Ecs.ClientException: bad (Service: Ecs, Status Code: 400)',
    });
  });

  it('reads the message of a Lambda error cause', () => {
    expect(classifyWorkflowError({ Error: 'Error', Cause: JSON.stringify({ errorType: 'Error', errorMessage: 'boom' }) }).message).toBe('Error: boom');
  });
});
