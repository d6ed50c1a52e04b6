/**
 * A small evaluator of CloudWatch metric math for the simulated alarms: one value per metric
 * id (undefined = no datapoint), an expression in, a value (or none) out. Supports numbers,
 * ids, `+ - * /`, comparisons (`> >= < <= == !=`, 1 or 0), parentheses and the functions
 * IF(condition, then[, else]), FILL(x, value), ABS(x), MAX([...]), MIN([...]). Like
 * CloudWatch, arithmetic on a missing datapoint gives no datapoint, and so does a division
 * by zero. Anything else is an error (the alarm stays INSUFFICIENT_DATA).
 */
export type MathValue = number | undefined;

type Token = { kind: 'num'; value: number } | { kind: 'id'; value: string } | { kind: 'op'; value: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|!=|[-+*/()<>,[\]]))/y;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    re.lastIndex = at;
    const match = re.exec(expression);
    if (!match) throw new Error(`unexpected "${expression.slice(at).trim()[0]}" in metric math "${expression}"`);
    at = re.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'num', value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: 'id', value: match[2] });
    else tokens.push({ kind: 'op', value: match[3]! });
  }
  return tokens;
}

const arithmetic = (a: MathValue, b: MathValue, f: (x: number, y: number) => number): MathValue => {
  if (a === undefined || b === undefined) return undefined;
  const value = f(a, b);
  return Number.isFinite(value) ? value : undefined;
};

const COMPARISONS: Record<string, (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/** Evaluates `expression` with `values` for the metric ids it names. */
export function evaluateMetricMath(expression: string, values: Record<string, MathValue>): MathValue {
  const tokens = tokenize(expression);
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (op?: string): Token => {
    const token = tokens[pos];
    if (!token || (op !== undefined && !(token.kind === 'op' && token.value === op))) {
      throw new Error(`expected ${op ?? 'more'} at token ${pos + 1} of metric math "${expression}"`);
    }
    pos += 1;
    return token;
  };
  const isOp = (value: string) => peek()?.kind === 'op' && peek()!.value === value;

  function list(): MathValue[] {
    take('[');
    const items: MathValue[] = [];
    if (!isOp(']')) {
      items.push(comparison());
      while (isOp(',')) {
        take(',');
        items.push(comparison());
      }
    }
    take(']');
    return items;
  }

  function call(name: string): MathValue {
    take('(');
    const upper = name.toUpperCase();
    if (upper === 'MAX' || upper === 'MIN') {
      const items = list().filter((v): v is number => v !== undefined);
      take(')');
      if (items.length === 0) return undefined;
      return upper === 'MAX' ? Math.max(...items) : Math.min(...items);
    }
    const args: MathValue[] = [comparison()];
    while (isOp(',')) {
      take(',');
      args.push(comparison());
    }
    take(')');
    switch (upper) {
      case 'IF': {
        if (args.length < 2 || args.length > 3) throw new Error('IF takes 2 or 3 arguments');
        const [condition, then, otherwise] = args;
        if (condition === undefined) return undefined;
        return condition !== 0 ? then : otherwise;
      }
      case 'FILL':
        if (args.length !== 2) throw new Error('FILL takes 2 arguments');
        return args[0] ?? args[1];
      case 'ABS':
        if (args.length !== 1) throw new Error('ABS takes 1 argument');
        return args[0] === undefined ? undefined : Math.abs(args[0]);
      default:
        throw new Error(`metric math function ${name} is not simulated`);
    }
  }

  function primary(): MathValue {
    const token = take();
    if (token.kind === 'num') return token.value;
    if (token.kind === 'id') {
      if (isOp('(')) return call(token.value);
      if (!(token.value in values)) throw new Error(`metric math "${expression}" names unknown id ${token.value}`);
      return values[token.value];
    }
    if (token.value === '(') {
      const value = comparison();
      take(')');
      return value;
    }
    if (token.value === '-') {
      const value = primary();
      return value === undefined ? undefined : -value;
    }
    throw new Error(`unexpected "${token.value}" in metric math "${expression}"`);
  }

  function product(): MathValue {
    let value = primary();
    while (isOp('*') || isOp('/')) {
      const op = take().value;
      const right = primary();
      value = arithmetic(value, right, op === '*' ? (a, b) => a * b : (a, b) => a / b);
    }
    return value;
  }

  function sum(): MathValue {
    let value = product();
    while (isOp('+') || isOp('-')) {
      const op = take().value;
      const right = product();
      value = arithmetic(value, right, op === '+' ? (a, b) => a + b : (a, b) => a - b);
    }
    return value;
  }

  function comparison(): MathValue {
    const left = sum();
    const token = peek();
    if (token?.kind === 'op' && COMPARISONS[token.value]) {
      pos += 1;
      const right = sum();
      return arithmetic(left, right, (a, b) => (COMPARISONS[token.value]!(a, b) ? 1 : 0));
    }
    return left;
  }

  const result = comparison();
  if (pos !== tokens.length) throw new Error(`unexpected "${JSON.stringify(tokens[pos])}" in metric math "${expression}"`);
  return result;
}
