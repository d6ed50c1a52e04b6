/**
 * Which errors a service's model declares, and so which name a Step Functions AWS SDK
 * integration gives an error of that service.
 *
 * Step Functions names an AWS SDK integration's error `<Service>.<ErrorName>`, the error name
 * being the SDK's exception for it, with the `Exception` suffix added where the name does not end
 * in it, `Fault` and `Error` names included (Step Functions Developer Guide, "AWS SDK service integrations",
 * https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html). An SDK has
 * an exception class only for the errors the service's model declares: an error code the model
 * does not declare (ECS's `ThrottlingException`, the `Throttling` of ELBv2, CloudWatch and
 * Route 53, a server fault without a shape) reaches the state as the service's catch-all,
 * `<Service>.<Service>Exception` (`Ecs.EcsException`, as CloudSnorkel/cdk-github-runners retries
 * ECS's throttling; EC2's is `Ec2.Ec2Exception`).
 *
 * "Declared by the model" is read from the service's own model as the AWS SDK for JavaScript v3
 * ships it: the exception classes its `@aws-sdk/client-*` package exports (each extends the
 * client's `<Service>ServiceException`). Application Auto Scaling and SNS have no client package
 * here: their lists are copied from aws/aws-sdk-js-v3
 * clients/client-application-auto-scaling/src/models/errors.ts and clients/client-sns/src/models/errors.ts.
 */
import { createRequire } from 'node:module';

/** `aws-sdk:<service>` -> the client package that carries its model. */
const CLIENT_PACKAGE: Record<string, string> = {
  ecs: '@aws-sdk/client-ecs',
  elasticloadbalancingv2: '@aws-sdk/client-elastic-load-balancing-v2',
  cloudwatch: '@aws-sdk/client-cloudwatch',
  route53: '@aws-sdk/client-route-53',
  logs: '@aws-sdk/client-cloudwatch-logs',
};

/** The exception classes of the services whose client package is not installed (see above). */
const COPIED_EXCEPTIONS: Record<string, readonly string[]> = {
  applicationautoscaling: [
    'ConcurrentUpdateException', 'FailedResourceAccessException', 'InternalServiceException', 'InvalidNextTokenException',
    'LimitExceededException', 'ObjectNotFoundException', 'ResourceNotFoundException', 'TooManyTagsException', 'ValidationException',
  ],
  sns: [
    'AuthorizationErrorException', 'BatchEntryIdsNotDistinctException', 'BatchRequestTooLongException', 'ConcurrentAccessException',
    'EmptyBatchRequestException', 'EndpointDisabledException', 'FilterPolicyLimitExceededException', 'InternalErrorException',
    'InvalidBatchEntryIdException', 'InvalidParameterException', 'InvalidParameterValueException', 'InvalidSecurityException',
    'InvalidStateException', 'KMSAccessDeniedException', 'KMSDisabledException', 'KMSInvalidStateException', 'KMSNotFoundException',
    'KMSOptInRequired', 'KMSThrottlingException', 'NotFoundException', 'OptedOutException', 'PlatformApplicationDisabledException',
    'ReplayLimitExceededException', 'ResourceNotFoundException', 'StaleTagException', 'SubscriptionLimitExceededException',
    'TagLimitExceededException', 'TagPolicyException', 'ThrottledException', 'TooManyEntriesInBatchRequestException',
    'TopicLimitExceededException', 'UserErrorException', 'ValidationException', 'VerificationException',
  ],
};

/** Step Functions' PascalCase prefix of a service's errors (`aws-sdk:<service>` -> `<Prefix>.`). */
const SERVICE_PREFIX: Record<string, string> = {
  ecs: 'Ecs',
  elasticloadbalancingv2: 'ElasticLoadBalancingV2',
  cloudwatch: 'CloudWatch',
  applicationautoscaling: 'ApplicationAutoScaling',
  sns: 'Sns',
  logs: 'CloudWatchLogs',
  route53: 'Route53',
  dynamodb: 'DynamoDb',
  sfn: 'Sfn',
  lambda: 'Lambda',
};

export function sfnServicePrefix(service: string): string {
  return SERVICE_PREFIX[service] ?? service.charAt(0).toUpperCase() + service.slice(1);
}

const requireClient = createRequire(import.meta.url);
const cache = new Map<string, ReadonlySet<string>>();

/** The exceptions `service`'s model declares (SDK v3 class names), or undefined when this machine has no model of it. */
export function modelledExceptions(service: string): ReadonlySet<string> | undefined {
  const cached = cache.get(service);
  if (cached) return cached;
  let names: string[] | undefined = COPIED_EXCEPTIONS[service] ? [...COPIED_EXCEPTIONS[service]] : undefined;
  const pkg = CLIENT_PACKAGE[service];
  if (!names && pkg) {
    const exported = requireClient(pkg) as Record<string, unknown>;
    const base = Object.entries(exported).find(([key, value]) => key.endsWith('ServiceException') && typeof value === 'function')?.[1] as
      | (abstract new (...args: never[]) => unknown)
      | undefined;
    if (base) {
      names = Object.entries(exported)
        .filter(([, value]) => typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof base)
        .map(([key]) => key);
    }
  }
  if (!names) return undefined;
  const set = new Set(names);
  cache.set(service, set);
  return set;
}

/**
 * `Throttling` -> `ThrottlingException`, `LimitExceededFault` -> `LimitExceededFaultException`: the
 * Exception suffix is always added, unless the name already ends in it (Step Functions Developer
 * Guide, "Learning to use AWS service SDK integrations in Step Functions": always add the
 * Exception suffix to potential error names, even where it is not part of the service's name,
 * as S3's `BucketAlreadyExists` is `S3.BucketAlreadyExistsException`).
 */
export const withExceptionSuffix = (name: string) => (name.endsWith('Exception') ? name : `${name}Exception`);

/**
 * The Step Functions error name of `service`'s error `name` (the SDK v3 error name: the class
 * name of a modelled error, the wire code of any other): `<Prefix>.<Name>` with the Exception
 * suffix when the model declares it, the catch-all `<Prefix>.<Prefix>Exception` when it does not
 * (and for a service this machine has no model of, the name as given).
 */
export function sfnErrorNameOf(service: string, name: string): string {
  const prefix = sfnServicePrefix(service);
  const modelled = modelledExceptions(service);
  if (modelled && !modelled.has(name)) return `${prefix}.${prefix}Exception`;
  return `${prefix}.${withExceptionSuffix(name)}`;
}
