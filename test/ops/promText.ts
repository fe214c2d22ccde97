/**
 * A strict reader of the Prometheus text exposition format (0.0.4), enough to check that
 * /metrics is what a Prometheus server would accept: HELP and TYPE before a family's samples,
 * valid names and labels, numeric values. Throws on the first malformed line.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedMetrics {
  types: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseMetrics(text: string): ParsedMetrics {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const fail = (why: string) => new Error(`line ${i + 1}: ${why}: ${line}`);
    if (line.startsWith('#')) {
      const [, keyword, name, ...rest] = line.split(' ');
      if (keyword === 'TYPE') {
        if (!name || !NAME.test(name) || !TYPES.has(rest[0] ?? '')) throw fail('bad TYPE');
        if (types.has(name)) throw fail('TYPE repeated');
        types.set(name, rest[0] as string);
      } else if (keyword === 'HELP') {
        if (!name || !NAME.test(name)) throw fail('bad HELP');
      }
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
    if (!match) throw fail('not a sample');
    const [, name = '', , labelText = '', rawValue = ''] = match;
    const family = [...types.keys()].find((f) => name === f || ((types.get(f) === 'histogram' || types.get(f) === 'summary') && /^(.*)_(bucket|sum|count)$/.exec(name)?.[1] === f));
    if (!family) throw fail('sample before its TYPE');
    const labels: Record<string, string> = {};
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
    let at = 0;
    while (at < labelText.length) {
      labelPattern.lastIndex = at;
      const label = labelPattern.exec(labelText);
      if (!label) throw fail('bad labels');
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      at = labelPattern.lastIndex;
    }
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : rawValue === 'NaN' ? NaN : Number(rawValue);
    if (rawValue !== 'NaN' && Number.isNaN(value)) throw fail('value is not a number');
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
export function sampleValue(parsed: ParsedMetrics, name: string, labels: Record<string, string> = {}): number | undefined {
  return parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
