import { Route53Client } from '@aws-sdk/client-route-53';
import { clientFor } from '../aws-clients.ts';

/** Route 53 (the simulator's in local mode): per-environment alias records. */
export const route53Client = () => clientFor('route53', () => new Route53Client({}));
