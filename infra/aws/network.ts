/**
 * Where environments run: the VPC, the ECS cluster, the shared ALB and its listener, the
 * security groups, the roles every environment's tasks use and their log group.
 *
 * Fledge creates per-environment resources (target groups, listener rules, services, task
 * definitions) at run time from Step Functions; this construct holds only what they share.
 */
import { Annotations, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ConfigError, type FledgeConfig } from './config.ts';
import { secretExecutionRoleKey, secretExecutionRoleName } from '#domain/execution-roles.ts';
import { ecrNamespace } from '#domain/image-ownership.ts';
import { secretNamespace } from '#domain/secret-ownership.ts';
import { acknowledge, acknowledgeWildcards } from './nag.ts';

export interface NetworkProps {
  config: FledgeConfig;
  logRetention: logs.RetentionDays;
  /** names the repositories' execution roles (functions/domain/execution-roles.ts) */
  installationId: string;
}

export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  /** Subnets of the environments' tasks. */
  readonly taskSubnets: ec2.ISubnet[];
  /** Whether tasks need a public IP to reach registries (they run in public subnets). */
  readonly assignPublicIp: boolean;
  readonly cluster: ecs.Cluster;
  /** The first shard's ALB (s1: the one ALB of installations before the pool). */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** Every shard's ALB, in shard order (s1, s2, ...). */
  readonly loadBalancers: elbv2.ApplicationLoadBalancer[];
  /** One security group for every shard's ALB (tasks accept it only). */
  readonly albSecurityGroup: ec2.SecurityGroup;
  readonly taskSecurityGroup: ec2.SecurityGroup;
  /** The first shard's listener (FLEDGE_LISTENER_ARN). */
  readonly listener: elbv2.ApplicationListener;
  /** Every shard's listener, in shard order: each holds the host-header rules of its shard's environments. */
  readonly listeners: elbv2.ApplicationListener[];
  readonly urlScheme: 'http' | 'https';
  /** The shared task execution role: environments without secrets; reads no secret. */
  readonly executionRole: iam.Role;
  /** Per repository of `secretRepositories`: its execution role, reading only its secret namespace. */
  readonly secretExecutionRoles: Record<string, iam.Role>;
  readonly taskRole: iam.Role;
  readonly environmentLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    // ---------------------------------------------------------------- VPC
    let publicSubnets: ec2.SubnetSelection;
    if (config.vpcId && config.publicSubnetIds.length > 0) {
      // Existing VPC described in context: no lookup, synth stays offline.
      const azs = config.availabilityZones;
      const subnet = (kind: string, subnetId: string, index: number) =>
        ec2.Subnet.fromSubnetAttributes(this, `${kind}Subnet${index}`, {
          subnetId,
          availabilityZone: azs.length ? azs[index % azs.length] : undefined,
        });
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: config.vpcId,
        availabilityZones: azs.length ? azs : config.publicSubnetIds.map((_, i) => `${stack.region}-az${i}`),
      });
      const pub = config.publicSubnetIds.map((sid, i) => subnet('Public', sid, i));
      const priv = config.privateSubnetIds.map((sid, i) => subnet('Private', sid, i));
      publicSubnets = { subnets: pub };
      this.taskSubnets = priv.length ? priv : pub;
      this.assignPublicIp = priv.length === 0;
    } else if (config.vpcId) {
      // Existing VPC without subnet ids: CDK looks it up (needs credentials and region at synth;
      // the answer is cached in cdk.context.json, commit it).
      this.vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: config.vpcId });
      publicSubnets = { subnetType: ec2.SubnetType.PUBLIC };
      const priv = this.vpc.privateSubnets;
      this.taskSubnets = priv.length ? priv : this.vpc.publicSubnets;
      this.assignPublicIp = priv.length === 0;
    } else {
      // New VPC: 2 AZs (the ALB needs two), one NAT gateway by default. Tasks run in private
      // subnets and only the ALB is reachable from the internet; one NAT (not one per AZ) is the
      // cost/availability trade-off that suits preview environments. natGateways=0 saves the NAT
      // (~32 USD/month + data): tasks then run in public subnets with public IPs, still only
      // reachable through their security group (from the ALB).
      const withNat = config.natGateways > 0;
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: config.natGateways,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 22 },
          ...(withNat ? [{ name: 'tasks', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 }] : []),
        ],
      });
      const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      });
      this.vpc = vpc;
      publicSubnets = { subnetType: ec2.SubnetType.PUBLIC };
      this.taskSubnets = withNat ? vpc.privateSubnets : vpc.publicSubnets;
      this.assignPublicIp = !withNat;
    }

    // ---------------------------------------------------------------- cluster
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
    });

    // ---------------------------------------------------------------- security groups
    this.albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSecurityGroup', {
      vpc: this.vpc,
      description: 'Fledge shared ALB: HTTP(S) from the internet, to environment tasks only',
      allowAllOutbound: false,
    });
    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'Fledge environment tasks: inbound from the shared ALB only',
      // Tasks pull images and call whatever their application calls.
      allowAllOutbound: true,
    });
    // Environments choose their container port (1-65535), so the ALB may reach the whole range,
    // but only on tasks in this security group.
    this.taskSecurityGroup.addIngressRule(this.albSecurityGroup, ec2.Port.tcpRange(1, 65535), 'ALB to environment containers');
    this.albSecurityGroup.addEgressRule(this.taskSecurityGroup, ec2.Port.tcpRange(1, 65535), 'ALB to environment containers');

    const listenerPort = config.certificateArn ? 443 : 80;
    for (const cidr of config.albIngressCidrs) {
      this.albSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(listenerPort), `preview URLs from ${cidr}`);
      if (config.certificateArn) {
        this.albSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(80), `redirect to HTTPS from ${cidr}`);
      }
    }

    // ---------------------------------------------------------------- ALBs + listeners (the shards)
    // One ALB per shard (config.shardCount): 99 environments each. Shard 1 keeps the construct
    // ids of the single ALB of earlier versions, so upgrading does not replace it; the others
    // are LoadBalancerS2, LoadBalancerS3... in the same public subnets and security group.
    const accessLogs = Token.isUnresolved(stack.region)
      ? undefined
      : new s3.Bucket(this, 'AccessLogs', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        lifecycleRules: [{ expiration: Duration.days(config.logRetentionDays) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
    if (accessLogs) acknowledge(accessLogs, 'AwsSolutions-S1', 'This bucket receives the ALB access logs; logging access to the log bucket itself would recurse.');
    this.urlScheme = config.certificateArn ? 'https' : 'http';
    this.loadBalancers = [];
    this.listeners = [];
    for (let index = 0; index < config.shardCount; index++) {
      const { loadBalancer, listener } = this.addLoadBalancer(index, config, publicSubnets, accessLogs);
      this.loadBalancers.push(loadBalancer);
      this.listeners.push(listener);
    }
    this.loadBalancer = this.loadBalancers[0]!;
    this.listener = this.listeners[0]!;
    if (!config.certificateArn) {
      Annotations.of(this).addWarningV2(
        'fledge:http-only',
        'No certificateArn in context: the shared ALB listens on plain HTTP and environment URLs are http://. Set -c certificateArn=<ACM ARN for *.<baseDomain>> for HTTPS.',
      );
    }

    // ---------------------------------------------------------------- task roles + logs
    this.environmentLogGroup = new logs.LogGroup(this, 'EnvironmentLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The shared execution role (environments without secrets): pulls images and writes logs,
    // reads no secret at all. Every repository the operator lists in `secretRepositories` gets
    // its own role that also reads that repository's namespace, and nothing else
    // (docs/security.md "Secrets"; functions/domain/execution-roles.ts names it).
    this.executionRole = new iam.Role(this, 'TaskExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Fledge environments without secrets: ECS pulls images and writes logs (reads no secret)',
    });
    this.grantPullAndLogs(this.executionRole, '*');

    this.secretExecutionRoles = {};
    for (const repository of config.secretRepositories) {
      const roleName = secretExecutionRoleName(props.installationId, repository, Stack.of(this).region);
      // The trust policy the ECS docs give for the task execution role ("Amazon ECS task execution
      // IAM role": principal ecs-tasks.amazonaws.com, no condition): the aws:SourceAccount /
      // aws:SourceArn conditions are documented for the task role ("Amazon ECS task IAM role"),
      // not for the role the ECS and Fargate agents assume, so none is added here (the shared
      // role has none either). iam:PassRole, scoped to these ARNs, decides who may name it.
      // the construct id leaves the region out: it may be a token (an environment-agnostic stack)
      const role = new iam.Role(this, `SecretExecutionRole-${secretExecutionRoleKey(props.installationId, repository)}`, {
        roleName,
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        description: `Fledge environments of ${repository} with secrets: pulls only that repository's ECR namespace, writes logs, reads only its secrets`,
      });
      // its images: only its ECR namespace (`<root>/<owner>/<name>/`, lower case), or none when ECR cannot name it
      const namespace = ecrNamespace(config.secretRoot, repository);
      this.grantPullAndLogs(role, namespace === undefined ? undefined : `${namespace}*`);
      this.grantRepositorySecrets(role, config, repository);
      this.secretExecutionRoles[repository] = role;
    }

    // The applications' own role: empty by default. Operators attach what their previews may call.
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Fledge environments: the role of the application containers (no permissions by default)',
    });

    for (const role of [this.executionRole, ...Object.values(this.secretExecutionRoles)]) {
      acknowledgeWildcards(
        role,
        [
          { match: /^\*$/, why: 'ecr:GetAuthorizationToken has no resource type.' },
          {
            match: /:ecr:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):repository\/([a-z0-9._-]+\/)*\*$/,
            why: 'The shared role pulls any image of the account\'s ECR (the API lets a repository run only its own namespace); a repository\'s role only its namespace <root>/<owner>/<name>/* (images of other registries need no ECR permission).',
          },
          {
            match: /:(secretsmanager|ssm):/,
            why: 'Only the secrets and parameters of this role\'s one repository (<secretRoot>/<owner>/<name>/*, narrowed by secretArnPrefixes), whose environments reference them by ARN.',
          },
          {
            match: /:kms:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):key\/\*$/,
            why: 'kms:Decrypt only via Secrets Manager / SSM and only with the encryption context of a secret of this role\'s repository (conditions kms:ViaService and kms:EncryptionContext).',
          },
        ],
        ['ecr:GetAuthorizationToken'],
      );
    }
    acknowledge(
      this.albSecurityGroup,
      'AwsSolutions-EC23',
      'The shared ALB serves the preview URLs, which reviewers open from anywhere by default; restrict with context albIngressCidrs.',
    );

  }

  /**
   * The ALB of the `index`th shard and its listener: HTTPS with the shared certificate (and a
   * redirect from HTTP), or plain HTTP without one; the default action answers 404.
   */
  private addLoadBalancer(
    index: number,
    config: FledgeConfig,
    vpcSubnets: ec2.SubnetSelection,
    accessLogs: s3.IBucket | undefined,
  ): { loadBalancer: elbv2.ApplicationLoadBalancer; listener: elbv2.ApplicationListener } {
    const suffix = index === 0 ? '' : `S${index + 1}`;
    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, `LoadBalancer${suffix}`, {
      vpc: this.vpc,
      internetFacing: true,
      vpcSubnets,
      securityGroup: this.albSecurityGroup,
      dropInvalidHeaderFields: true,
      idleTimeout: Duration.seconds(60),
    });
    if (accessLogs) {
      loadBalancer.logAccessLogs(accessLogs, index === 0 ? 'alb' : `alb-s${index + 1}`);
    } else {
      acknowledge(
        loadBalancer,
        'AwsSolutions-ELB2',
        'ALB access logs need the region at synth time (the ELB log-delivery principal differs per region) and this stack is environment-agnostic. Set context "region" (and "account") to enable them.',
      );
    }
    const notFound = elbv2.ListenerAction.fixedResponse(404, {
      contentType: 'text/plain',
      messageBody: 'No preview environment answers at this address.',
    });
    if (!config.certificateArn) {
      const listener = loadBalancer.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP, defaultAction: notFound, open: false });
      return { loadBalancer, listener };
    }
    const listener = loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(config.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultAction: notFound,
      open: false,
    });
    loadBalancer.addListener('HttpRedirect', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      open: false,
    });
    return { loadBalancer, listener };
  }

  /**
   * What every execution role needs: pull images from the account's ECR repositories, write the
   * environments' logs. The shared role pulls every repository of the account's ECR (the API's
   * image check, functions/domain/image-ownership.ts, is the gate: Fledge registers every task
   * definition); a repository's own role pulls only `repository/<root>/<owner>/<name>/*`, and no
   * repository at all when ECR cannot express its name (`repositories` undefined).
   */
  private grantPullAndLogs(role: iam.Role, repositories: string | undefined): void {
    const stack = Stack.of(this);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EcrAuth',
        // ecr:GetAuthorizationToken has no resource type: AWS only accepts "*".
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
    );
    if (repositories !== undefined) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'EcrPull',
          actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
          resources: [`arn:${stack.partition}:ecr:${stack.region}:${stack.account}:repository/${repositories}`],
        }),
      );
    }
    this.environmentLogGroup.grantWrite(role);
  }

  /**
   * Reading one repository's secrets: `secret:<root>/<owner>/<name>/*` and
   * `parameter/<root>/<owner>/<name>/*` of the stack's account and region, narrowed by
   * `secretArnPrefixes` when set (a prefix inside the namespace replaces it; a prefix that holds
   * the whole namespace keeps it; a repository left with nothing is a ConfigError).
   */
  private grantRepositorySecrets(role: iam.Role, config: FledgeConfig, repository: string): void {
    const stack = Stack.of(this);
    const partition = stack.partition;
    const name = secretNamespace(config.secretRoot, repository);
    const namespaces = {
      secretsManager: `arn:${partition}:secretsmanager:${stack.region}:${stack.account}:secret:${name}`,
      ssm: `arn:${partition}:ssm:${stack.region}:${stack.account}:parameter/${name}`,
    };
    let secretArns = [`${namespaces.secretsManager}*`, `${namespaces.ssm}*`];
    if (config.secretArnPrefixes.length) {
      secretArns = [];
      for (const raw of config.secretArnPrefixes) {
        const prefix = raw.replace(/\*$/, '');
        const service = prefix.includes(':secretsmanager:') ? 'secretsManager' : 'ssm';
        // the name part of the prefix (config.ts checked its form, and its account and region when known)
        const marker = service === 'ssm' ? ':parameter/' : ':secret:';
        const prefixName = prefix.slice(prefix.indexOf(marker) + marker.length);
        if (prefixName.startsWith(name)) secretArns.push(`${prefix}*`);
        else if (name.startsWith(prefixName)) secretArns.push(`${namespaces[service]}*`);
      }
      if (secretArns.length === 0) {
        throw new ConfigError(
          `context secretRepositories: ${repository} owns no secret inside secretArnPrefixes (its namespace is ${name}); widen secretArnPrefixes or remove it from secretRepositories`,
        );
      }
    }
    const secretsManager = [...new Set(secretArns.filter((arn) => arn.includes(':secretsmanager:')))];
    const ssm = [...new Set(secretArns.filter((arn) => arn.includes(':ssm:')))];
    if (secretsManager.length) {
      role.addToPolicy(new iam.PolicyStatement({ sid: 'ReadSecrets', actions: ['secretsmanager:GetSecretValue'], resources: secretsManager }));
    }
    if (ssm.length) {
      role.addToPolicy(new iam.PolicyStatement({ sid: 'ReadParameters', actions: ['ssm:GetParameters'], resources: ssm }));
    }
    // Secrets under a customer managed key: kms:Decrypt only through Secrets Manager / SSM and
    // only for a secret of this repository. Each service names what it decrypts in the
    // encryption context: Secrets Manager `SecretARN` ("Secret encryption and decryption in AWS
    // Secrets Manager"), Parameter Store `PARAMETER_ARN` ("How AWS Systems Manager Parameter Store
    // uses AWS KMS"). The AWS managed keys need no permission (ECS "Required IAM permissions for
    // Amazon ECS secrets").
    const keys = `arn:${partition}:kms:${stack.region}:${stack.account}:key/*`;
    const decrypters = [
      { sid: 'DecryptSecretsViaSecretsManager', service: 'secretsmanager', contextKey: 'SecretARN', namespace: namespaces.secretsManager },
      { sid: 'DecryptParametersViaSsm', service: 'ssm', contextKey: 'PARAMETER_ARN', namespace: namespaces.ssm },
    ];
    for (const { sid, service, contextKey, namespace } of decrypters) {
      role.addToPolicy(new iam.PolicyStatement({
        sid,
        actions: ['kms:Decrypt'],
        resources: [keys],
        conditions: {
          StringEquals: { 'kms:ViaService': `${service}.${stack.region}.amazonaws.com` },
          StringLike: { [`kms:EncryptionContext:${contextKey}`]: `${namespace}*` },
        },
      }));
    }
  }

  /** Service ARNs of the cluster: `arn:aws:ecs:<region>:<account>:service/<cluster>/*`. */
  serviceArnPattern(): string {
    const stack = Stack.of(this);
    return `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:service/${this.cluster.clusterName}/*`;
  }

  /** Prefix of the cluster's service ARNs (EventBridge `resources` prefix match). */
  serviceArnPrefix(): string {
    const stack = Stack.of(this);
    return `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:service/${this.cluster.clusterName}/`;
  }
}
