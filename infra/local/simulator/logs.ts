/**
 * Simulated CloudWatch Logs: the log groups the simulated tasks write to (awslogs), one stream
 * per container of a task named as the awslogs driver names it (`<prefix>/<container>/<task
 * id>`: Amazon ECS Developer Guide, "Using the awslogs log driver"), and FilterLogEvents with
 * the parameters of the CloudWatch Logs API Reference: `logGroupName` or `logGroupIdentifier`
 * (one, not both), `logStreamNames` (1-100) or `logStreamNamePrefix` (not both), `startTime`
 * and `endTime` (ms, inclusive), `limit` (1-10,000; default 10,000), `nextToken`; events sorted
 * by timestamp, then ingestion, oldest first; a `nextToken` while more events match. A named
 * stream that does not exist is a ResourceNotFoundException "The specified log stream does not
 * exist." (as AWS answers when it does not exist at all; whether AWS refuses when only some of the
 * names are missing is not documented: the simulator does, the stricter reading). The only
 * `filterPattern` understood is a plain term (events whose message contains it).
 */
import { awsError } from './errors.ts';
import type { SimContext } from './context.ts';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface LogEventRecord {
  timestamp: number;
  ingestionTime: number;
  message: string;
  eventId: string;
  /** ingestion order, the tie-breaker of equal timestamps */
  seq: number;
}

interface LogGroupRecord {
  name: string;
  createdAt: number;
  streams: Map<string, LogEventRecord[]>;
}

/** FilterLogEvents' limits (CloudWatch Logs API Reference, FilterLogEvents). */
export const FILTER_LOG_EVENTS_LIMITS = { maxStreamNames: 100, maxLimit: 10_000 } as const;
/** Events kept per stream (the oldest are dropped first); AWS keeps them for the group's retention. */
const KEEP_PER_STREAM = 10_000;

const logsError = (code: string, message: string) => awsError('logs', code, message);

export class LogsSimulator {
  readonly groups = new Map<string, LogGroupRecord>();
  private seq = 0;

  constructor(private readonly ctx: SimContext) {}

  /** The stack creates the group on AWS; here the first task that writes to a group creates it. */
  ensureGroup(name: string): LogGroupRecord {
    let group = this.groups.get(name);
    if (!group) {
      group = { name, createdAt: this.ctx.clock.now(), streams: new Map() };
      this.groups.set(name, group);
    }
    return group;
  }

  /** Lines a container writes (awslogs ships each line as one event, stamped when written). */
  write(groupName: string, streamName: string, lines: readonly string[]): void {
    const stream = this.ensureGroup(groupName).streams.get(streamName) ?? [];
    const now = this.ctx.clock.now();
    for (const message of lines) {
      const seq = this.seq++;
      stream.push({ timestamp: now, ingestionTime: now, message, seq, eventId: `${String(now).padStart(20, '0')}${String(seq).padStart(16, '0')}` });
    }
    if (stream.length > KEEP_PER_STREAM) stream.splice(0, stream.length - KEEP_PER_STREAM);
    this.groups.get(groupName)!.streams.set(streamName, stream);
  }

  private groupOf(input: Input): LogGroupRecord {
    const byName = input.logGroupName as string | undefined;
    const byIdentifier = input.logGroupIdentifier as string | undefined;
    if ((byName === undefined) === (byIdentifier === undefined)) {
      throw logsError('InvalidParameterException', 'You must specify either logGroupName or logGroupIdentifier, but not both.');
    }
    // an identifier may be the group's ARN (`arn:aws:logs:<region>:<account>:log-group:<name>[:*]`)
    const name = byName ?? String(byIdentifier).replace(/^arn:[^:]+:logs:[^:]*:[^:]*:log-group:/, '').replace(/:\*$/, '');
    const group = this.groups.get(name);
    if (!group) throw logsError('ResourceNotFoundException', 'The specified log group does not exist.');
    return group;
  }

  readonly actions: Record<string, (input: Input) => Input> = {
    FilterLogEvents: (input) => {
      const group = this.groupOf(input);
      const names = input.logStreamNames as string[] | undefined;
      const prefix = input.logStreamNamePrefix as string | undefined;
      if (names !== undefined && prefix !== undefined) {
        throw logsError('InvalidParameterException', 'Cannot specify both logStreamNames and logStreamNamePrefix.');
      }
      if (names !== undefined && (names.length < 1 || names.length > FILTER_LOG_EVENTS_LIMITS.maxStreamNames)) {
        throw logsError('InvalidParameterException', `1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to ${FILTER_LOG_EVENTS_LIMITS.maxStreamNames}`);
      }
      const limit = input.limit === undefined ? FILTER_LOG_EVENTS_LIMITS.maxLimit : Number(input.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > FILTER_LOG_EVENTS_LIMITS.maxLimit) {
        throw logsError('InvalidParameterException', `1 validation error detected: Value '${input.limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${FILTER_LOG_EVENTS_LIMITS.maxLimit}`);
      }
      // naming a stream that does not exist is refused (a task whose container never started has none)
      if (names?.some((name) => !group.streams.has(name))) throw logsError('ResourceNotFoundException', 'The specified log stream does not exist.');
      const start = input.startTime === undefined ? -Infinity : Number(input.startTime);
      const end = input.endTime === undefined ? Infinity : Number(input.endTime);
      const term = typeof input.filterPattern === 'string' ? input.filterPattern.trim().replace(/^"(.*)"$/, '$1') : '';
      const streams = [...group.streams.entries()].filter(([name]) => (names ? names.includes(name) : !prefix || name.startsWith(prefix)));
      const matching = streams
        .flatMap(([logStreamName, events]) => events.map((event) => ({ logStreamName, ...event })))
        .filter((event) => event.timestamp >= start && event.timestamp <= end && (!term || event.message.includes(term)))
        .sort((a, b) => a.timestamp - b.timestamp || a.ingestionTime - b.ingestionTime || a.seq - b.seq);
      // the token says where the next page starts: the position in this (deterministic) order
      let offset = 0;
      if (input.nextToken !== undefined) {
        const decoded = /^sim1:(\d{1,9})$/.exec(Buffer.from(String(input.nextToken), 'base64url').toString('utf8'));
        if (!decoded) throw logsError('InvalidParameterException', 'The specified nextToken is invalid.');
        offset = Number(decoded[1]);
      }
      const page = matching.slice(offset, offset + limit);
      const next = offset + page.length < matching.length ? Buffer.from(`sim1:${offset + page.length}`).toString('base64url') : undefined;
      return {
        events: page.map(({ logStreamName, timestamp, message, ingestionTime, eventId }) => ({ logStreamName, timestamp, message, ingestionTime, eventId })),
        searchedLogStreams: streams.map(([logStreamName]) => ({ logStreamName, searchedCompletely: next === undefined })),
        ...(next ? { nextToken: next } : {}),
      };
    },
  };
}
