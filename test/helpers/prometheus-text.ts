/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line is
 * a HELP, a TYPE or a sample of the family declared just before it; names, labels, escapes and
 * values are checked, and anything else throws naming the line.
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
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText === 'NaN' ? NaN : Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') fail('value is not a number');
    family.samples.push({ name, labels, value });
  });
  return families;
}
