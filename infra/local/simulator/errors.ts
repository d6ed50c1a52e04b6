/**
 * Errors as the AWS SDK v3 throws them: `name` is the SDK's exception name (what
 * `error.name` is when the real client throws), `Code` the wire error code (they differ
 * for the query-protocol services: ELBv2 `TargetGroupNotFound` is
 * `TargetGroupNotFoundException` in SDK v3), `$fault` and `$metadata` as in
 * `ServiceException`, and `sfnErrorName` the name a Step Functions aws-sdk integration
 * would report (`Ecs.ServiceNotFoundException`; an error the service's model does not declare is
 * its catch-all, `Ecs.EcsException`: service-exceptions.ts).
 */
import { randomUUID } from 'node:crypto';
import { sfnErrorNameOf } from './service-exceptions.ts';

export type SimService = 'ecs' | 'elasticloadbalancingv2' | 'cloudwatch' | 'applicationautoscaling' | 'sns' | 'logs' | 'route53';

/** Wire codes of the query-protocol services whose SDK v3 exception class has another name. */
const SDK_NAME_BY_CODE: Partial<Record<SimService, Record<string, string>>> = {
  elasticloadbalancingv2: {
    TargetGroupNotFound: 'TargetGroupNotFoundException',
    DuplicateTargetGroupName: 'DuplicateTargetGroupNameException',
    PriorityInUse: 'PriorityInUseException',
    TooManyTargetGroups: 'TooManyTargetGroupsException',
    TooManyRules: 'TooManyRulesException',
    TooManyTargets: 'TooManyTargetsException',
    TooManyUniqueTargetGroupsPerLoadBalancer: 'TooManyUniqueTargetGroupsPerLoadBalancerException',
    TargetGroupAssociationLimit: 'TargetGroupAssociationLimitException',
    TooManyLoadBalancers: 'TooManyLoadBalancersException',
    DuplicateLoadBalancerName: 'DuplicateLoadBalancerNameException',
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
    this.sfnErrorName = sfnErrorNameOf(service, sdkName);
  }
}

export function awsError(service: SimService, code: string, message: string, httpStatusCode = 400): SimulatedAwsError {
  return new SimulatedAwsError(service, code, message, httpStatusCode);
}

/** The error each service answers when its request rate is exceeded (the usual shape). */
export function throttlingError(service: SimService): SimulatedAwsError {
  return throttlingErrors(service, '', {})[0]!;
}

/** What the simulator knows of a call when it picks how to throttle it. */
export interface ThrottledCall {
  /** the target group a CreateService/UpdateService would make ECS describe */
  targetGroupArn?: string;
  /** the scaling policy a PutScalingPolicy names */
  policyName?: string;
  /** a RegisterTaskDefinition of a family another registration is creating a revision of right now */
  familyBusy?: boolean;
}

/**
 * Every shape AWS throttles `service:action` with, the usual one first. Sources:
 *  - ECS: `ThrottlingException` "Rate exceeded" (Amazon ECS API Reference, "Request
 *    throttling for the Amazon ECS API"); CreateService/UpdateService with a load balancer
 *    are also refused when ECS is throttled describing the target group on your behalf:
 *    `ClientException` "Received throttling error when describing target group <arn>"
 *    (reported in hashicorp/terraform-provider-aws#28852, aws/aws-sdk#488); concurrent
 *    RegisterTaskDefinition of one family: `ClientException` "Too many concurrent attempts
 *    to create a new revision of the specified family." (jenkinsci/amazon-ecs-plugin#105).
 *  - ELBv2 and CloudWatch (query protocol): `Throttling` "Rate exceeded" (Elastic Load
 *    Balancing API Reference and CloudWatch API Reference, "Common Errors").
 *  - Application Auto Scaling: `ThrottlingException` "Rate exceeded" (Common Errors);
 *    the mutating calls also answer `ConcurrentUpdateException` when another update of the
 *    same resource is pending, and PutScalingPolicy/DescribeScalingPolicies
 *    `FailedResourceAccessException` when its own CloudWatch calls are throttled
 *    (Application Auto Scaling API Reference, the operations' Errors sections).
 *  - SNS: `Throttled` "Rate exceeded" (Amazon SNS API Reference, Publish, Errors).
 *  - CloudWatch Logs: `ThrottlingException` "Rate exceeded" (CloudWatch Logs API Reference, Common Errors).
 *  - Route 53: HTTP 400 `Throttling` "Rate exceeded" (Route 53 Developer Guide, "Throttling for Amazon
 *    Route 53 API requests").
 * Of these only ClientException, ConcurrentUpdateException, FailedResourceAccessException and SNS's
 * ThrottledException are declared by their service's model: the others reach a Step Functions
 * state as the service's catch-all (`Ecs.EcsException`, `Route53.Route53Exception`: service-exceptions.ts).
 */
export function throttlingErrors(service: SimService, action: string, call: ThrottledCall): SimulatedAwsError[] {
  const rate = 'Rate exceeded';
  switch (service) {
    case 'ecs': {
      const shapes = [awsError(service, 'ThrottlingException', rate)];
      if ((action === 'CreateService' || action === 'UpdateService') && call.targetGroupArn) {
        shapes.push(awsError(service, 'ClientException', `Received throttling error when describing target group ${call.targetGroupArn}`));
      }
      if (action === 'RegisterTaskDefinition' && call.familyBusy) {
        // only concurrent registrations of one family meet this one
        shapes.push(awsError(service, 'ClientException', 'Too many concurrent attempts to create a new revision of the specified family.'));
      }
      return shapes;
    }
    case 'elasticloadbalancingv2':
    case 'cloudwatch':
      return [awsError(service, 'Throttling', rate)];
    case 'applicationautoscaling': {
      const shapes = [awsError(service, 'ThrottlingException', rate)];
      if (['RegisterScalableTarget', 'DeregisterScalableTarget', 'PutScalingPolicy', 'DeleteScalingPolicy'].includes(action)) {
        shapes.push(awsError(service, 'ConcurrentUpdateException', 'You already have a pending update to an Application Auto Scaling resource.'));
      }
      if (action === 'PutScalingPolicy' || action === 'DescribeScalingPolicies') {
        shapes.push(
          awsError(
            service,
            'FailedResourceAccessException',
            `Unable to retrieve alarms for scaling policy ${call.policyName ?? ''} due to reason: ${rate} (Service: AmazonCloudWatch; Status Code: 400; Error Code: Throttling)`.replace('policy  due', 'policy due'),
          ),
        );
      }
      return shapes;
    }
    case 'sns':
      return [awsError(service, 'Throttled', rate)];
    case 'logs':
      return [awsError(service, 'ThrottlingException', rate)];
    case 'route53':
      return [awsError(service, 'Throttling', rate)];
  }
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
    case 'logs':
      return 'InvalidParameterException';
    case 'route53':
      return 'InvalidInput';
  }
}
