// TEMPORARY (not to keep): stubs alarms until the fake supports them
import { FakeAws } from './support/fake-aws.ts';
const proto = FakeAws.prototype as unknown as Record<string, unknown>;
if (!proto.doPutMetricAlarm) proto.doPutMetricAlarm = () => ({});
if (!proto.doDeleteAlarms) proto.doDeleteAlarms = () => ({});
await import('./scale.test.ts');
