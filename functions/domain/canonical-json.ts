/**
 * Canonical JSON: what "the same value" means wherever Fledge hashes one (the fingerprint of an
 * Idempotency-Key request, the content hash of a task definition). Pure.
 */

type Work = { text: string } | { value: unknown };

/**
 * JSON with the keys of every object sorted (by UTF-16 code units, as RFC 8785 JCS does; numbers
 * and strings as JSON.stringify writes them), so the same JSON with its keys in another order gives
 * the same text. Iterative (an explicit stack), so any depth the parser accepted is fine.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: Work[] = [{ value }];
  while (stack.length > 0) {
    const work = stack.pop()!;
    if ('text' in work) {
      out.push(work.text);
      continue;
    }
    const current = work.value;
    if (Array.isArray(current)) {
      stack.push({ text: ']' });
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i] });
        if (i > 0) stack.push({ text: ',' });
      }
      stack.push({ text: '[' });
    } else if (current !== null && typeof current === 'object') {
      const object = current as Record<string, unknown>;
      const keys = Object.keys(object)
        .filter((key) => object[key] !== undefined && typeof object[key] !== 'function')
        .sort();
      stack.push({ text: '}' });
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ value: object[keys[i]!] });
        stack.push({ text: `${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:` });
      }
      stack.push({ text: '{' });
    } else {
      // strings, finite numbers, booleans, null; undefined (only possible at the top or in an array) as null
      out.push(JSON.stringify(current) ?? 'null');
    }
  }
  return out.join('');
}
