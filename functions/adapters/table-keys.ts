/** Key shapes of the single table (docs/design.md). One place, so no module spells them twice. */
export const envKey = (name: string) => ({ pk: `ENV#${name}`, sk: 'ENV' });
export const eventSortKey = (at: string, seq: number) => `EVT#${at}#${String(seq).padStart(4, '0')}`;
export const idempotencyKey = (key: string) => ({ pk: `IDEM#${key}`, sk: 'IDEM' });
export const priorityKey = (priority: number) => ({ pk: `PRIORITY#${priority}`, sk: 'PRIORITY' });
/** how many environments are placed on shard `id` (functions/adapters/shard-slots.ts) */
export const shardKey = (id: string) => ({ pk: `SHARD#${id}`, sk: 'SHARD' });
export const liveCounterKey = { pk: 'COUNTER#live', sk: 'COUNTER' } as const;
/** when a plan step last picked a shared task definition family (the cleanup never collects it within the grace) */
export const taskDefinitionUseKey = (family: string) => ({ pk: `TDUSE#${family}`, sk: 'TDUSE' });

export { tableName } from '#runtime/config.ts';
