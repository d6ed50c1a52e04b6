/**
 * The Step Functions names the simulator gives AWS SDK integration errors
 * (infra/local/simulator/service-exceptions.ts): the Exception suffix always added unless the name
 * ends in it (Step Functions Developer Guide, "Learning to use AWS service SDK integrations in Step Functions").
 */
import { describe, expect, it } from 'vitest';
import { sfnErrorNameOf, withExceptionSuffix } from '../../../infra/local/simulator/service-exceptions.ts';
import { awsError } from '../../../infra/local/simulator/errors.ts';

describe('the Exception suffix', () => {
  it('is added to a name ending in Fault or Error, or in nothing, and not to one ending in Exception', () => {
    expect(withExceptionSuffix('LimitExceededFault')).toBe('LimitExceededFaultException');
    expect(withExceptionSuffix('InternalServiceFault')).toBe('InternalServiceFaultException');
    expect(withExceptionSuffix('ValidationError')).toBe('ValidationErrorException');
    expect(withExceptionSuffix('BucketAlreadyExists')).toBe('BucketAlreadyExistsException');
    expect(withExceptionSuffix('ClientException')).toBe('ClientException');
  });

  it("names a declared CloudWatch fault with the suffix, never as the bare Fault", () => {
    expect(sfnErrorNameOf('cloudwatch', 'LimitExceededFault')).toBe('CloudWatch.LimitExceededFaultException');
    expect(awsError('cloudwatch', 'LimitExceeded', 'too many alarms').sfnErrorName).toBe('CloudWatch.LimitExceededFaultException');
  });

  it('keeps declared Exception names, and names an undeclared code by the catch-all', () => {
    expect(sfnErrorNameOf('ecs', 'ClientException')).toBe('Ecs.ClientException');
    expect(sfnErrorNameOf('ecs', 'ThrottlingException')).toBe('Ecs.EcsException');
    expect(sfnErrorNameOf('elasticloadbalancingv2', 'ValidationError')).toBe('ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception');
  });
});
