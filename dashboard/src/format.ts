/** Short words for times and money in the tables. */
import type { Environment } from './api.ts';

/** 45s, 12m, 3h, 2d 23h */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  const hours = Math.floor((s % 86_400) / 3600);
  return `${Math.floor(s / 86_400)}d${hours ? ` ${hours}h` : ''}`;
}

export function age(iso: string, now: number): string {
  return span(now - Date.parse(iso));
}

export function expiry(iso: string, now: number): string {
  const left = Date.parse(iso) - now;
  return left > 0 ? `in ${span(left)}` : 'expired';
}

export function cost(env: Pick<Environment, 'cost'>): string {
  if (!env.cost) return '—';
  return `$${env.cost.perHour.toFixed(4)}/h · $${env.cost.toDate.toFixed(2)}`;
}

export function time(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export const STATUSES = ['CREATING', 'RUNNING', 'UPDATING', 'SCALING', 'SLEEPING', 'HEALING', 'DEGRADED', 'FAILED', 'DELETING', 'DELETED'] as const;
