/** RFC 9457 problem details (application/problem+json), built with http-problem-details. */
import { ProblemDocument } from 'http-problem-details';
import { publicText, publicValue } from '#domain/public-text.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://fledge.dev/problems/';

/** Detail and extensions in public words (no ARN, account id or stack: docs/security.md "What reaches callers"). */
export function problemBody(status: number, title: string, detail: string, extensions: Record<string, unknown> = {}): string {
  const type = `${TYPE_BASE}${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  const document = new ProblemDocument({ type, title, status, detail: publicText(detail) }, publicValue(extensions) as Record<string, object>);
  return JSON.stringify(document);
}
