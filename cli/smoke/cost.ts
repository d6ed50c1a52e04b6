/**
 * What one smoke run costs on AWS, stated before it starts. The figure is an estimate from
 * public on-demand Fargate rates; it is printed with its assumptions so an operator can
 * scale it to their region.
 */

import { FARGATE_PRICES } from '../../functions/contract/fargate-prices.ts';
import { taskHourPrice } from '../../functions/domain/cost.ts';

/** Fargate Linux/x86_64 on-demand, us-east-1: per vCPU-hour and per GB-hour (USD), from the one price table. */
export const FARGATE_VCPU_HOUR_USD = FARGATE_PRICES['us-east-1']!.vcpuHour;
export const FARGATE_GB_HOUR_USD = FARGATE_PRICES['us-east-1']!.gbHour;

export interface CostEstimate {
  usd: number;
  /** the assumption, one line */
  assumption: string;
  /** what is left out, one line */
  excluded: string;
}

/** cpu in CPU units (256 = 0.25 vCPU), memory in MiB, one task for `minutes`. */
export function estimateCost(cpu: number, memory: number, minutes: number): CostEstimate {
  const vcpu = cpu / 1024;
  const gb = memory / 1024;
  const hours = minutes / 60;
  const usd = hours * taskHourPrice({ cpu, memory }, FARGATE_PRICES['us-east-1']!);
  return {
    usd,
    assumption:
      `one Fargate task of ${vcpu} vCPU / ${gb} GB for ~${minutes} minutes at us-east-1 Linux/x86 on-demand rates ` +
      `($${FARGATE_VCPU_HOUR_USD}/vCPU-h, $${FARGATE_GB_HOUR_USD}/GB-h; other regions differ by up to ~30 %)`,
    excluded:
      'ALB LCUs for a few dozen requests, Lambda, Step Functions transitions, DynamoDB and CloudWatch calls are fractions of a cent; ' +
      'the shared ALB, NAT gateway and control plane run whether or not the smoke does and are not counted',
  };
}

export function formatUsd(usd: number): string {
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}
