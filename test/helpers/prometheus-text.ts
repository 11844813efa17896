/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line is
 * a HELP, a TYPE, a sample of the family declared just before it, or empty (the format ignores
 * empty lines, and prom-client separates families with one); names, labels, escapes and values
 * are checked, and anything else throws naming the line. A histogram must be whole: per label
 * set, `_bucket`s with increasing `le` ending at `+Inf`, cumulative counts, the `+Inf` bucket
 * equal to `_count`, and a `_sum`.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"\s*(,|$)/y;

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  let current: Family | undefined;
  text.slice(0, -1).split('\n').forEach((line, i) => {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line.startsWith('# HELP ')) {
      const [, name = '', help = ''] = /^# HELP (\S+) (.*)$/.exec(line) ?? fail('malformed HELP');
      if (!NAME.test(name)) fail('bad metric name');
      if (families.has(name)) fail('family declared twice');
      current = { name, help, type: 'untyped', samples: [] };
      families.set(name, current);
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [, name = '', type = ''] = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line) ?? fail('malformed TYPE');
      if (current === undefined || current.name !== name || current.samples.length) return fail('TYPE must follow its HELP, before samples');
      current.type = type;
      return;
    }
    if (line === '') return;
    if (line.startsWith('#') || line.trim() === '') fail('unexpected comment or blank line');
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line) ?? fail('malformed sample');
    const [, name = '', labelText, valueText = ''] = m;
    const family = current ?? fail('sample before any family');
    const base = family.type === 'histogram' ? name.replace(/_(bucket|sum|count)$/, '') : family.type === 'summary' ? name.replace(/_(sum|count)$/, '') : name;
    if (base !== family.name) fail(`sample of another family than ${family.name}`);
    const labels: Record<string, string> = {};
    if (labelText !== undefined && labelText !== '') {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const at = LABEL.lastIndex;
        const l = LABEL.exec(labelText) ?? fail(`malformed label at ${at}`);
        const key = l[1] as string;
        if (key in labels) fail(`label ${key} twice`);
        labels[key] = (l[2] as string).replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
        if (l[3] === '') break;
      }
    }
    const value = floatValue(valueText) ?? fail('value is not a number');
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/**
 * A value as Prometheus reads it (Go's ParseFloat): a decimal or hexadecimal-free float, or
 * NaN and infinities spelt in any case (prom-client writes `Nan`, which Prometheus takes).
 */
function floatValue(text: string): number | undefined {
  if (/^nan$/i.test(text)) return NaN;
  const inf = /^([+-]?)inf(inity)?$/i.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** The `_bucket`, `_sum` and `_count` samples of one histogram series (one label set besides `le`). */
export interface HistogramSeries {
  labels: Record<string, string>;
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
}

/** A histogram family's series; `labels` picks those having these labels (all, when empty). */
export function histogramSeries(family: Family, labels: Record<string, string> = {}): HistogramSeries[] {
  if (family.type !== 'histogram') throw new Error(`${family.name} is a ${family.type}, not a histogram`);
  const series = new Map<string, HistogramSeries>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
    let s = series.get(key);
    if (!s) series.set(key, (s = { labels: rest, buckets: [], sum: Number.NaN, count: Number.NaN }));
    if (sample.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${sample.name}${key}: a bucket without le`);
      const bound = le === '+Inf' ? Infinity : Number(le);
      if (le.trim() === '' || Number.isNaN(bound)) throw new Error(`${sample.name}${key}: le=${JSON.stringify(le)} is not a number`);
      s.buckets.push({ le: bound, count: sample.value });
    } else {
      if (le !== undefined) throw new Error(`${sample.name}${key}: le on a sample that is not a bucket`);
      if (sample.name === `${family.name}_sum`) s.sum = sample.value;
      else if (sample.name === `${family.name}_count`) s.count = sample.value;
      else throw new Error(`${sample.name}: not a sample of histogram ${family.name}`);
    }
  }
  return [...series.values()].filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function checkHistogram(family: Family): void {
  for (const s of histogramSeries(family)) {
    const where = `${family.name}${JSON.stringify(s.labels)}`;
    if (s.buckets.length === 0) throw new Error(`${where}: no buckets`);
    s.buckets.forEach((b, i) => {
      const before = s.buckets[i - 1];
      if (before && !(b.le > before.le)) throw new Error(`${where}: le ${b.le} does not increase`);
      if (before && b.count < before.count) throw new Error(`${where}: bucket le=${b.le} holds fewer than the one before: not cumulative`);
      if (!Number.isInteger(b.count) || b.count < 0) throw new Error(`${where}: bucket le=${b.le} count ${b.count}`);
    });
    const last = s.buckets.at(-1);
    if (last?.le !== Infinity) throw new Error(`${where}: the last bucket is not le="+Inf"`);
    if (Number.isNaN(s.count)) throw new Error(`${where}: no _count`);
    if (Number.isNaN(s.sum)) throw new Error(`${where}: no _sum`);
    if (last.count !== s.count) throw new Error(`${where}: the +Inf bucket holds ${last.count}, _count says ${s.count}`);
  }
}
