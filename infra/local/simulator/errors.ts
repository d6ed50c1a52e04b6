/**
 * Errors as the AWS SDK v3 throws them: `name` is the SDK's exception name (what
 * `error.name` is when the real client throws), `Code` the wire error code (they differ
 * for the query-protocol services: ELBv2 `TargetGroupNotFound` is
 * `TargetGroupNotFoundException` in SDK v3), `$fault` and `$metadata` as in
 * `ServiceException`, and `sfnErrorName` the name a Step Functions aws-sdk integration
 * would report (`Ecs.ServiceNotFoundException`).
 */
import { randomUUID } from 'node:crypto';

export type SimService = 'ecs' | 'elasticloadbalancingv2' | 'cloudwatch' | 'applicationautoscaling' | 'sns';

export const SFN_SERVICE_PREFIX: Record<SimService, string> = {
  ecs: 'Ecs',
  elasticloadbalancingv2: 'ElasticLoadBalancingV2',
  cloudwatch: 'CloudWatch',
  applicationautoscaling: 'ApplicationAutoScaling',
  sns: 'Sns',
};

/** Wire codes of the query-protocol services whose SDK v3 exception class has another name. */
const SDK_NAME_BY_CODE: Partial<Record<SimService, Record<string, string>>> = {
  elasticloadbalancingv2: {
    TargetGroupNotFound: 'TargetGroupNotFoundException',
    DuplicateTargetGroupName: 'DuplicateTargetGroupNameException',
    PriorityInUse: 'PriorityInUseException',
    TooManyTargetGroups: 'TooManyTargetGroupsException',
    TooManyRules: 'TooManyRulesException',
    TooManyUniqueTargetGroupsPerLoadBalancer: 'TooManyUniqueTargetGroupsPerLoadBalancerException',
    ResourceInUse: 'ResourceInUseException',
    RuleNotFound: 'RuleNotFoundException',
    ListenerNotFound: 'ListenerNotFoundException',
    LoadBalancerNotFound: 'LoadBalancerNotFoundException',
    InvalidTarget: 'InvalidTargetException',
    InvalidConfigurationRequest: 'InvalidConfigurationRequestException',
    DuplicateTagKeys: 'DuplicateTagKeysException',
    TooManyTags: 'TooManyTagsException',
    OperationNotPermitted: 'OperationNotPermittedException',
  },
  cloudwatch: {
    InvalidParameterValue: 'InvalidParameterValueException',
    InvalidParameterCombination: 'InvalidParameterCombinationException',
    MissingParameter: 'MissingRequiredParameterException',
    LimitExceeded: 'LimitExceededFault',
    ResourceNotFoundException: 'ResourceNotFoundException',
  },
  sns: {
    Throttled: 'ThrottledException',
    InvalidParameter: 'InvalidParameterException',
    NotFound: 'NotFoundException',
  },
};

export class SimulatedAwsError extends Error {
  readonly Code: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId: string; attempts: number; totalRetryDelay: number };
  readonly $service: SimService;
  readonly sfnErrorName: string;

  constructor(service: SimService, code: string, message: string, httpStatusCode = 400) {
    super(message);
    const sdkName = SDK_NAME_BY_CODE[service]?.[code] ?? code;
    this.name = sdkName;
    this.Code = code;
    this.$service = service;
    this.$fault = httpStatusCode >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 };
    // Step Functions adds `Exception` where the error name lacks a suffix (ELBv2 Throttling)
    this.sfnErrorName = `${SFN_SERVICE_PREFIX[service]}.${/(Exception|Fault|Error)$/.test(sdkName) ? sdkName : `${sdkName}Exception`}`;
  }
}

export function awsError(service: SimService, code: string, message: string, httpStatusCode = 400): SimulatedAwsError {
  return new SimulatedAwsError(service, code, message, httpStatusCode);
}

/** The error each service answers when its request rate is exceeded. */
export function throttlingError(service: SimService): SimulatedAwsError {
  const code = service === 'elasticloadbalancingv2' || service === 'cloudwatch' ? 'Throttling' : service === 'sns' ? 'Throttled' : 'ThrottlingException';
  return awsError(service, code, 'Rate exceeded', 400);
}

/** The generic "bad input" error code of each service. */
export function validationErrorCode(service: SimService): string {
  switch (service) {
    case 'ecs':
      return 'InvalidParameterException';
    case 'elasticloadbalancingv2':
      return 'ValidationError';
    case 'cloudwatch':
      return 'InvalidParameterValue';
    case 'applicationautoscaling':
      return 'ValidationException';
    case 'sns':
      return 'InvalidParameter';
  }
}
