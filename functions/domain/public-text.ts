/**
 * What may reach a caller (docs/security.md "What reaches callers"): API answers, events and
 * the waker's public page carry a typed code and plain words, never an ARN, an account id,
 * raw AWS error text or a stack. The AWS detail goes to the log instead. Pure.
 *
 * Two tools:
 * - `publicText` keeps the useful part of a text AWS wrote (an ECS stoppedReason such as
 *   "Task failed ELB health checks in (target-group arn:aws:...:targetgroup/x/1)") and drops
 *   what identifies the account: every ARN becomes its resource part
 *   (`arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/x/1` -> `targetgroup/x/1`),
 *   any other 12-digit number (an account id, e.g. in an ECR registry host) becomes `<account>`,
 *   also percent-encoded or in full-width digits (`maskAccounts`), and only the first line is
 *   kept (no stack traces).
 * - `workflowStepFailure` turns the `{Error, Cause}` a workflow caught into plain words: the
 *   error's name when it is a plain identifier (`Ecs.ClientException`), never its Cause (AWS's
 *   prose, request ids, role ARNs): the task Lambda logs the Cause.
 * `publicValue` applies `publicText` to every string of a JSON value (event details), as a last
 * line of defence at the API's boundary: it also cleans records written by earlier versions.
 */

/** `:` as text carries it: itself, or percent-encoded (`%3A`, also encoded twice: `%253A`), as in a URL's query. */
const COLON = '(?::|%(?:25){0,3}3A)';
/**
 * `arn:<partition>:<service>:<region>:<account>:<resource>`, also percent-encoded
 * (`arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx`); the resource runs to a space, quote or closing bracket.
 */
const ARN = new RegExp(`\\barn${COLON}aws[a-z-]*${COLON}[a-z0-9-]+${COLON}[a-z0-9-]*${COLON}(?:\\d{12}|aws)?${COLON}([^\\s"'<>\`,;()[\\]{}]+)`, 'gi');
/**
 * 12 digits standing alone (not part of a longer number, a decimal or a hex id such as a task
 * definition's hash); a percent-encoded character before them (`%3A123456789012`) separates them
 * as the character itself would.
 */
const ACCOUNT_ID = /(?=\d{12}(?![A-Za-z0-9]))(?:(?<![A-Za-z0-9.])|(?<=%(?:25){0,3}[0-9A-Fa-f]{2}))\d{12}/g;
const MAX_LENGTH = 500;

const maskAscii = (text: string) => text.replace(ARN, (_match, resource: string) => resource).replace(ACCOUNT_ID, '<account>');

/**
 * ARNs and account ids masked, also where they hide behind compatibility characters: a run of
 * text that is not plain ASCII is read in its NFKC form (full-width `１２３４５６７８９０１２` is
 * `123456789012`, `ａｒｎ：` is `arn:`), and replaced by that form, masked, only when it hid one;
 * any other text stays exactly as written (a log line's own characters are the application's).
 */
function maskAccounts(text: string): string {
  const masked = maskAscii(text);
  if (!NON_ASCII.test(masked)) return masked;
  // split, not a regex around the non-ASCII character: linear in the length of a 16 KiB line
  return masked
    .split(/(\s+)/)
    .map((run) => {
      if (!NON_ASCII.test(run)) return run;
      const compatible = run.normalize('NFKC');
      const cleaned = maskAscii(compatible);
      return cleaned === compatible ? run : cleaned;
    })
    .join('');
}

/** any character beyond ASCII (an astral one is a surrogate pair, matched by its halves) */
const NON_ASCII = /[\u0080-\uffff]/;

export function publicText(text: string): string {
  const line = text.trim().split(/\r?\n/)[0] ?? '';
  const cleaned = maskAccounts(line);
  return cleaned.length > MAX_LENGTH ? `${cleaned.slice(0, MAX_LENGTH - 3)}...` : cleaned;
}

/** The longest container log line the logs route hands out (CloudWatch takes events of up to 256 KB). */
export const MAX_LOG_LINE_LENGTH = 16_384;

/**
 * A line the environment's container wrote, as the logs route answers it: the application's own
 * words, every line of it (a stack trace stays whole), with ARNs cut to their resource and
 * account ids hidden as everywhere else, and at most MAX_LOG_LINE_LENGTH characters.
 */
export function publicLogText(text: string): string {
  const cleaned = maskAccounts(text);
  return cleaned.length > MAX_LOG_LINE_LENGTH ? `${cleaned.slice(0, MAX_LOG_LINE_LENGTH - 3)}...` : cleaned;
}

/** Every string in `value` through `publicText` (keys and structure unchanged). */
export function publicValue<T>(value: T): T {
  if (typeof value === 'string') return publicText(value) as T;
  if (Array.isArray(value)) return value.map((item) => publicValue(item)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, publicValue(item)])) as T;
  }
  return value;
}

/** An error name safe to show: a dotted identifier such as `States.Timeout` or `Ecs.ClientException`. */
export function publicErrorName(name: string | undefined): string | undefined {
  return name && /^[A-Za-z][A-Za-z0-9_.]{0,99}$/.test(name) ? name : undefined;
}

/** Plain words for a workflow step that failed, naming the error but never quoting its Cause. */
export function workflowStepFailure(error: { Error?: string } | undefined, what = 'a workflow step failed'): string {
  const name = publicErrorName(error?.Error);
  return `${what}${name ? ` (${name})` : ''}; the operators' logs have the details`;
}
