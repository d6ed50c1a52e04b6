/**
 * Simulated SNS: Publish to a topic of the simulated account is recorded (the heal
 * workflow's notification that an environment went DEGRADED), so `GET /_local/resources`
 * shows what the operators would have received. Nothing is delivered.
 */
import { awsError } from './errors.ts';
import { uuid, type SimContext } from './context.ts';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface NotificationRecord {
  topicArn: string;
  messageId: string;
  subject?: string;
  message: string;
  at: string;
}

/** At most this many notifications are kept (oldest dropped). */
const KEEP = 1000;

export class SnsSimulator {
  readonly notifications: NotificationRecord[] = [];

  constructor(private readonly ctx: SimContext) {}

  readonly actions: Record<string, (input: Input) => Input> = {
    Publish: (input) => {
      const topicArn = String(input.TopicArn ?? input.TargetArn ?? '');
      if (!topicArn) throw awsError('sns', 'InvalidParameter', 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
      const prefix = `arn:aws:sns:${this.ctx.config.region}:${this.ctx.config.accountId}:`;
      if (!topicArn.startsWith(prefix) || !/^[A-Za-z0-9_-]{1,256}$/.test(topicArn.slice(prefix.length))) {
        throw awsError('sns', 'NotFound', 'Topic does not exist');
      }
      if (input.Subject !== undefined && (String(input.Subject).length > 100 || !/^[\x20-\x7e]*$/.test(String(input.Subject)))) {
        throw awsError('sns', 'InvalidParameter', 'Invalid parameter: Subject');
      }
      if (Buffer.byteLength(String(input.Message)) > 262_144) throw awsError('sns', 'InvalidParameter', 'Invalid parameter: Message too long');
      const record: NotificationRecord = {
        topicArn,
        messageId: uuid(),
        ...(input.Subject !== undefined ? { subject: String(input.Subject) } : {}),
        message: String(input.Message),
        at: this.ctx.isoNow(),
      };
      this.notifications.push(record);
      if (this.notifications.length > KEEP) this.notifications.splice(0, this.notifications.length - KEEP);
      this.ctx.log.info('simulator: notification published', { topicArn, subject: record.subject });
      return { MessageId: record.messageId };
    },
  };
}
