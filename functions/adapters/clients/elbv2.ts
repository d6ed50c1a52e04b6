import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { clientFor } from '../aws-clients.ts';

/** Elastic Load Balancing v2 (the simulator's in local mode). */
export const elbv2Client = () => clientFor('elbv2', () => new ElasticLoadBalancingV2Client({}));
