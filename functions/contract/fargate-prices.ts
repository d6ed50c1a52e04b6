/**
 * The price table of environment cost estimates (README "Cost"): AWS Fargate on-demand prices,
 * Linux/x86_64, per vCPU-hour and per GB-hour of memory, in USD, by region. Only x86_64: the
 * task definitions Fledge registers pin `CpuArchitecture: X86_64` (functions/domain/resource-plan.ts),
 * and set no ephemeral storage beyond the 20 GiB every task gets free, so storage is not priced.
 *
 * Source: https://aws.amazon.com/fargate/pricing/ (its "Pricing Details" table: the price per
 * vCPU-hour and per GB-hour of each region; the figures are those of the AWS Price List usage
 * types `<region prefix>-Fargate-vCPU-Hours:perCPU` and `<region prefix>-Fargate-GB-Hours`).
 * Read 2026-12-07, without network access: AWS's page renders its regional figures with
 * JavaScript, so each figure below was read from a public copy that quotes it, named per region.
 * A region that is not here has no price: its environments show no `cost` unless the operator
 * sets one (FLEDGE_FARGATE_PRICES, CDK context `fargatePrices`), and synth says so.
 */
import type { FargatePrice } from '#domain/cost.ts';

export const FARGATE_PRICES_SOURCE = 'https://aws.amazon.com/fargate/pricing/';
export const FARGATE_PRICES_READ = '2026-12-07';

interface RegionPrice extends FargatePrice {
  /** where the figures were read */
  readFrom: string;
}

export const FARGATE_PRICES: Readonly<Record<string, RegionPrice>> = {
  // US East (N. Virginia), USE1: the rates table of "AWS Fargate Pricing Explained"
  // (https://www.vantage.sh/blog/fargate-pricing, us-east-1, Linux/x86); AWS's own per-second
  // example on https://aws.amazon.com/ecs/pricing/ ($0.000011244 per vCPU-second) is the same rate
  'us-east-1': { vcpuHour: 0.04048, gbHour: 0.004445, readFrom: 'vantage.sh/blog/fargate-pricing; aws.amazon.com/ecs/pricing per-second example' },
  // US East (Ohio), USE2: a Price List read quoted in public code (usage types USE2-Fargate-vCPU-Hours:perCPU, USE2-Fargate-GB-Hours, read 2026-09-10)
  'us-east-2': { vcpuHour: 0.04048, gbHour: 0.004445, readFrom: 'AWS Price List, usage types USE2-Fargate-*, as quoted in public code' },
  // Europe (Ireland), EU: EU-Fargate-vCPU-Hours:perCPU $0.04048 and EU-Fargate-GB-Hours $0.004445 as
  // quoted in a public pricing review; a public Cost Explorer month agrees (297 GB-hours = $1.32)
  'eu-west-1': { vcpuHour: 0.04048, gbHour: 0.004445, readFrom: 'AWS Price List, usage types EU-Fargate-*, as quoted in public notes' },
  // Europe (London), EUW2: EUW2-Fargate-vCPU-Hours:perCPU $0.04656, EUW2-Fargate-GB-Hours $0.00511 as quoted in public code
  'eu-west-2': { vcpuHour: 0.04656, gbHour: 0.00511, readFrom: 'AWS Price List, usage types EUW2-Fargate-*, as quoted in public code' },
  // Europe (Frankfurt), EUC1: EUC1-Fargate-vCPU-Hours:perCPU $0.04656, EUC1-Fargate-GB-Hours $0.00511
  // as quoted in public code (effective 2026-07-07)
  'eu-central-1': { vcpuHour: 0.04656, gbHour: 0.00511, readFrom: 'AWS Price List, usage types EUC1-Fargate-*, as quoted in public code' },
};

/** The table's price for `region`, if it has one. */
export function tablePrice(region: string | undefined): FargatePrice | undefined {
  const entry = region === undefined ? undefined : FARGATE_PRICES[region];
  return entry && { vcpuHour: entry.vcpuHour, gbHour: entry.gbHour };
}
