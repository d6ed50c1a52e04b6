/**
 * Pinning: the label `fledge.dev/pin: "true"` keeps an environment out of the expiry index,
 * so the scheduled cleanup never tears it down for its ttl (it still counts against the
 * quotas and is still removed by a DELETE). Operators may forbid pins (FLEDGE_ALLOW_PINNING=false):
 * a spec that sets one is then a 400. Any other value of the label ("false", "") is not a pin.
 */
import type { EnvironmentSpec } from './environment-spec.ts';

export const PIN_LABEL = 'fledge.dev/pin';

export function isPinned(spec: Pick<EnvironmentSpec, 'labels'>): boolean {
  return spec.labels?.[PIN_LABEL] === 'true';
}
