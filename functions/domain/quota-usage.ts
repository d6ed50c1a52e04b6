/**
 * How full the live quotas are (README "Expiry, cleanup and quotas"): the operator is paged
 * before creates start failing with QUOTA_EXCEEDED. Pure.
 */

/** The live counters: every live environment, and each repository's. */
export interface LiveCounts {
  total: number;
  repositories: Record<string, number>;
}

export interface QuotaLimits {
  global: number;
  perRepository: number;
}

/** The fullest quota in percent: the global one, or the fullest repository's (0 when nothing is live). */
export function quotaUsedPercent(counts: LiveCounts, limits: QuotaLimits): number {
  const shares = [counts.total / limits.global, ...Object.values(counts.repositories).map((n) => n / limits.perRepository)];
  return Math.round(Math.max(0, ...shares) * 1000) / 10;
}
