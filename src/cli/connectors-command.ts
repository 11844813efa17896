import type { AnyConnector } from '../connector/contract.js';
import { connectorNames, loadConnector } from '../connector/registry.js';
import type { CliIo } from './io.js';

/** `sync connectors`: what each connector is, its streams, and whether it syncs in batch, by webhooks or both. */

export interface ConnectorSummary {
  name: string;
  description: string;
  /** The stream names, or null when they are built from the config (its settings or its description). */
  streams: string[] | null;
  /** `sync run`: every connector. */
  batch: true;
  /** `sync listen`: always, never, or when the config describes webhooks. */
  webhooks: 'yes' | 'no' | 'from config';
}

export function summarizeConnector(connector: AnyConnector): ConnectorSummary {
  return {
    name: connector.name,
    description: connector.description,
    streams: connector.resolveStreams ? null : connector.streams.map((s) => s.name),
    batch: true,
    webhooks: connector.webhooks || (connector.resolveWebhooks && connector.describedInConfig !== true) ? 'yes' : connector.resolveWebhooks ? 'from config' : 'no',
  };
}

/** Every registered connector, in name order. */
export async function loadConnectorSummaries(): Promise<ConnectorSummary[]> {
  const summaries: ConnectorSummary[] = [];
  for (const name of connectorNames()) summaries.push(summarizeConnector(await loadConnector(name)));
  return summaries;
}

export async function connectorsCommand(format: 'text' | 'json', io: CliIo): Promise<void> {
  const summaries = await loadConnectorSummaries();
  io.stdout.write(format === 'json' ? JSON.stringify(summaries, null, 2) + '\n' : formatConnectors(summaries, io.stdout.isTTY ? io.stdout.columns : undefined));
}

/**
 * ```
 * sample  An offline simulated shop account ...
 *         streams: customers, orders
 *         batch (sync run sample), webhooks (sync listen sample)
 * ```
 */
export function formatConnectors(summaries: readonly ConnectorSummary[], columns: number | undefined): string {
  const width = Math.max(...summaries.map((s) => s.name.length), 0) + 2;
  const wrapAt = Math.max((columns ?? 100) - 1 - width, 30);
  const out: string[] = [];
  for (const s of summaries) {
    const indent = ' '.repeat(width);
    const description = wrap(s.description, wrapAt);
    out.push(s.name.padEnd(width) + (description[0] ?? ''));
    for (const line of description.slice(1)) out.push(indent + line);
    const streams =
      s.streams !== null ? s.streams.join(', ') || 'none'
      : s.webhooks === 'from config' ? `from its config (sync run ${s.name} --config FILE --discover)`
      : `built from its settings (sync run ${s.name} --discover lists them)`;
    out.push(`${indent}streams: ${streams}`);
    out.push(`${indent}${modes(s)}`);
  }
  return out.join('\n') + '\n';
}

function modes(s: ConnectorSummary): string {
  const batch = `batch (sync run ${s.name})`;
  switch (s.webhooks) {
    case 'yes':
      return `${batch}, webhooks (sync listen ${s.name})`;
    case 'from config':
      return `${batch}, webhooks when its config describes them (sync listen ${s.name})`;
    case 'no':
      return `${batch}; no webhooks`;
  }
}

/** For `sync --help`: a line per connector, its description cut to the line. */
export function connectorHelpLines(summaries: readonly ConnectorSummary[], columns = 80): string[] {
  const width = Math.max(...summaries.map((s) => s.name.length), 0) + 2;
  return summaries.map((s) => `  ${s.name.padEnd(width)}${shorten(s.description, columns - 3 - width)}`);
}

function shorten(text: string, width: number): string {
  if (text.length <= width) return text;
  const cut = text.lastIndexOf(' ', width - 1);
  return `${text.slice(0, cut > width / 2 ? cut : width - 1).replace(/[,;:]$/, '')}…`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
