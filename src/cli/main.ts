import { Command, CommanderError, Option } from 'commander';
import { BusyError, ExitCode, SyncError, type ExitCodeValue } from '../errors.js';
import { jsonLogLine } from '../log.js';
import type { InboxFlags } from './inbox-command.js';
import { scrub, type CliIo } from './io.js';
import type { ListenFlags } from './listen-command.js';
import type { DrainFlags } from './drain-command.js';
import { ifGiven, LOG_FORMATS, OptionReader, readOutputOptions } from './options.js';
import { READER_GONE_EXIT_CODE, ReaderGoneError } from './reader-gone.js';
import type { RunFlags } from './run-command.js';
import type { StateFlags } from './state-command.js';
import type { StatusFlags } from './status-command.js';
import type { TargetFlags } from './target-command.js';

/**
 * The command line: commander wiring only. Each command's module is imported when that
 * command runs. `main` is the one place that turns errors into exit codes; it never calls
 * process.exit, so stdout is always drained.
 */

export const VERSION = '0.1.0';

const RUN_EXAMPLES = `
Examples:
  sync run sample                                  # into ./sync.db (SQLite), incremental
  sync run sample --target - | jq -c 'select(.type == "RECORD").record'   # Singer NDJSON on stdout
  sync run sample --target jsonl:out/              # one .jsonl file per stream
  sync run sample --streams orders --full-refresh  # re-read one stream from the start
  SYNC_SAMPLE_SEED=7 sync run sample --quiet       # settings from the environment (cron)
  sync run sample --discover > catalog.json        # the catalog, to edit and pass to --catalog
  sync run sample --about                          # settings and streams of a connector
  sync run rest --config api.json --record cassettes/   # then: --replay cassettes/ (offline)
  sync run sample --quiet --ping https://hc-ping.com/<uuid>   # URL/start, then URL or URL/fail
  sync run sample --quiet --metrics-file /var/lib/node_exporter/textfile/sync.prom`;

const TARGET_EXAMPLES = `
Examples:
  sync run sample --target - | sync target sqlite:copy.db
  some-singer-tap --config tap.json | sync target jsonl:out/ > state.json`;

const STATE_EXAMPLES = `
Examples:
  sync state show sample
  sync state set sample --stream orders --value 2025-06-01T00:00:00Z   # one bookmark; the others stay
  sync state clear sample --stream orders          # next run re-reads orders in full
  sync state set sample --file backup.json --replace                    # the whole state, as saved
  sync state show --state-id singer --target sqlite:copy.db             # what \`sync target\` stored
  sync state history sample                        # every state committed, newest first, with ids
  sync state rewind sample --to 41                 # put back state #41: the next run re-reads from there
  sync state rewind sample --to 2026-03-01T00:00:00Z   # the newest state committed at or before a time
  sync state rewind sample --to 6h                 # ... or before six hours ago`;

const LISTEN_EXAMPLES = `
Examples:
  SYNC_SAMPLE_WEBHOOK_SECRET=whsec_... sync listen sample       # POST /webhooks/sample on 127.0.0.1:8080
  sync listen sample --config sample.json --port 9000 --host 0.0.0.0
  sync listen sample --target - | some-singer-target            # records as Singer NDJSON on stdout
  curl -s localhost:8080/readyz                                 # 200 when the journal is writable
  sync listen sample --host 0.0.0.0 --journal 'postgres://sync@db:5432/sync?schema=inbox' \
    --target 'postgres://sync@db:5432/sync?schema=sample'       # one of several replicas behind a load balancer
  sync listen sample --journal 'postgres://sync@db/sync?schema=inbox' --no-drain   # store only; \`sync drain\` writes
  sync listen sample --host 0.0.0.0 --metrics-port 9100 --metrics-host 127.0.0.1    # /metrics only on the inside

Each delivery is verified, stored in the journal (--journal) and only then answered 200;
a drain writes it to the target as records of the same streams \`sync run\` fills.
Stops on SIGTERM or Ctrl-C: new deliveries get 503, stored ones are drained, exit 0.`;

const DRAIN_EXAMPLES = `
Examples:
  sync drain sample --journal 'postgres://sync@db:5432/sync?schema=inbox' --target 'postgres://sync@db:5432/sync?schema=sample'
  sync drain sample --journal 'postgres://sync@db/sync?schema=inbox' --target sqlite:sync.db --once   # what is pending, then exit

Any number of drains (these and \`sync listen\` without --no-drain) share a PostgreSQL journal:
each delivery is claimed by one of them and marked done in the same transaction that releases
it. A drain killed mid-batch lets go of its claim when its session ends; another takes it over.
Stops on SIGTERM or Ctrl-C after finishing what it holds (30 s at most), exit 0.`;

const INBOX_EXAMPLES = `
Examples:
  sync inbox list                                  # every stored delivery, oldest first
  sync inbox list --status dead --since 2h         # dead letters of the last two hours
  sync inbox show --id msg_2mPq                    # headers (signatures redacted) and body
  sync inbox retry-dead                            # dead letters again, through the current mapping
  sync inbox replay --since 2026-03-01T00:00:00Z   # push stored deliveries into the target again
  sync inbox prune --status dead --older-than 30d  # forget old dead letters
  sync inbox list --journal 'postgres://sync@db/sync?schema=inbox' --status dead   # a shared journal`;

const STATUS_EXAMPLES = `
Examples:
  sync status                                      # every connector synced into ./sync.db: runs, bookmarks, ages
  sync status --target sqlite:/srv/sync/sync.db --journal /srv/sync/sync-inbox.db
  sync status --format json | jq '.connectors[] | {stateId, lastSuccess}'
  sync status --check --max-age 1h                 # exit 1 and one line per problem when not fresh
  sync status --check --max-age 30m,orders=2h      # and the newest order at most 2 h old
  sync status --check --journal sync-inbox.db --max-dead 0 --max-age 1h,webhooks:sample=6h
  sync status --target 'postgres://sync@db:5432/sync?schema=shop' --journal 'postgres://sync@db:5432/sync?schema=inbox'

--check prints nothing and exits 0 when everything is fresh; otherwise one line per problem
on stdout and exit 1: a last run or webhook drain batch that failed (exit 75, retry later,
excepted), a last successful run older than --max-age (the drain's batches never count as
runs), a stream whose bookmark is older than its age, more dead deliveries than --max-dead,
no webhook delivery for longer than webhooks:<connector>=AGE.`;

const OUTPUT_FORMATS = ['text', 'json'] as const;
const DELIVERY_STATUSES = ['pending', 'done', 'dead'] as const;

/** What every command takes, declared here once (`buildProgram` adds them to each command). */
function withOutputOptions(command: Command): Command {
  return command
    .option('-q, --quiet', 'only warnings and errors on stderr; no progress, no summary')
    .addOption(new Option('--log-format <format>', 'log lines (and errors) on stderr as text or JSON').choices(LOG_FORMATS).default('text'))
    .option('--debug', 'debug logging, and stack traces for errors');
}

function buildProgram(io: CliIo, output: ReportOptions, connectors: readonly string[] | undefined): Command {
  const program = new Command('sync')
    .description('Batch and trigger syncs from SaaS APIs into SQLite, files or any Singer target.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander's own errors are reported by `report`, in the format the logs use.
      outputError: () => {},
    });

  program
    .command('run')
    .description("run a connector's tap: read its streams and write them into a target, incrementally")
    .argument('<connector>', 'connector name (e.g. sample)')
    .option('-c, --config <file>', 'JSON settings; each can also be set as SYNC_<CONNECTOR>_<SETTING>')
    .option('-t, --target <spec>', 'where records go: -, sqlite:PATH, jsonl:DIR, csv:DIR', 'sqlite:sync.db')
    .option('--streams <names>', 'only these streams, comma-separated')
    .option('--catalog <file>', 'Singer catalog selecting streams and fields')
    .option('-s, --state <file>', 'Singer state in and out (instead of the state kept by the target)')
    .option('--state-id <id>', 'key of the state kept in the target (default: the connector name)')
    .option('--full-refresh', 'ignore bookmarks of the selected streams and read everything')
    .option('-d, --discover', 'print the catalog and exit')
    .option('--about', "print the connector's streams and settings and exit")
    .option('--record <dir>', 'save every HTTP exchange in DIR, secrets redacted (for tests and bug reports)')
    .option('--replay <dir>', 'answer HTTP requests from the exchanges saved in DIR, with no network')
    .option('--metrics-file <path>', 'write the run\'s figures in Prometheus text format to PATH after the run (node_exporter textfile collector)')
    .option('--ping <url>', "dead-man's switch (healthchecks.io, Cronitor): URL/start at the start, URL on success, URL/fail with the error line on failure")
    .addOption(new Option('--format <format>', 'format of --about').choices(OUTPUT_FORMATS).default('text'))
    .addHelpText('after', RUN_EXAMPLES)
    .action(async (connector: string, _options: unknown, command: Command) => {
      const flags = readRunFlags(command);
      const { runCommand } = await import('./run-command.js');
      await runCommand(connector, flags, io);
    });

  program
    .command('target')
    .description('be a Singer target: read messages on stdin, write them to SPEC, print each committed state on stdout')
    .argument('<spec>', 'sqlite:PATH, jsonl:DIR, csv:DIR or -')
    .option('--state-id <id>', 'key under which the target keeps the state it receives', 'singer')
    .option('--no-validate', 'do not validate records against their schema (key properties are still checked)')
    .option('--batch-size <records>', 'records per commit, default 5000 (a batch also commits once its rows pass 4 MiB)')
    .option('-c, --config <file>', 'a target config as orchestrators pass one (Meltano): its batch_size and validate are used, other keys ignored; flags win')
    .addHelpText('after', TARGET_EXAMPLES)
    .action(async (spec: string, _options: unknown, command: Command) => {
      const flags = readTargetFlags(command);
      const { targetCommand } = await import('./target-command.js');
      await targetCommand(spec, flags, io);
    });

  program
    .command('listen')
    .description('receive webhooks: verify, journal, answer, and write them as records into a target')
    .argument('<connector...>', 'connectors to serve, each at POST /webhooks/<connector>')
    .option('-p, --port <port>', 'TCP port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--metrics-port <port>', 'serve GET /metrics on this port instead of the webhook port (0: any free port, printed at start)')
    .option('--metrics-host <address>', 'address the metrics port listens on (default: --host)')
    .option('-c, --config <file>', 'JSON settings (with several connectors: {"<connector>": {...}}); also SYNC_<CONNECTOR>_<SETTING>')
    .option('-t, --target <spec>', 'where records go: -, sqlite:PATH, jsonl:DIR, csv:DIR, postgres://…', 'sqlite:sync.db')
    .option('--journal <file>', 'the inbox: every delivery, stored before it is answered; a file, or postgres://…?schema=NAME shared by replicas', 'sync-inbox.db')
    .option('--no-drain', 'with a PostgreSQL journal: only store deliveries; `sync drain` workers write them to the target')
    .option('--max-body <bytes>', 'largest body accepted; larger gets 413', String(25 * 1024 * 1024))
    .option('--request-timeout <seconds>', 'a request (headers and body) must arrive within this time', '30')
    .option('--retain <duration>', 'keep done deliveries this long, for deduplication and sync inbox: 7d, 72h, 90m, or forever', '7d')
    .addHelpText('after', LISTEN_EXAMPLES)
    .action(async (connectors: string[], _options: unknown, command: Command) => {
      const flags = readListenFlags(command);
      const { listenCommand } = await import('./listen-command.js');
      await listenCommand(connectors, flags, io);
    });

  program
    .command('drain')
    .description('write the deliveries of a shared PostgreSQL journal into a target; run as many as you like')
    .argument('<connector...>', 'connectors whose deliveries to write')
    .requiredOption('--journal <url>', 'the journal `sync listen` replicas fill: postgres://USER@HOST:PORT/DB?schema=NAME')
    .option('-t, --target <spec>', 'where records go: -, sqlite:PATH, jsonl:DIR, csv:DIR, postgres://…', 'sqlite:sync.db')
    .option('-c, --config <file>', 'settings of connectors whose webhooks come from their config (rest)')
    .option('--once', 'drain what is pending now, then exit (a scheduled job), instead of running until stopped')
    .addHelpText('after', DRAIN_EXAMPLES)
    .action(async (connectors: string[], _options: unknown, command: Command) => {
      const flags = readDrainFlags(command);
      const { drainCommand } = await import('./drain-command.js');
      await drainCommand(connectors, flags, io);
    });

  program
    .command('inbox')
    .description('look at the deliveries `sync listen` stored, and push them through the mapping again')
    .argument('<action>', 'list, show, replay, retry-dead or prune')
    .option('--journal <file>', 'the journal of `sync listen`: a file, or postgres://…?schema=NAME', 'sync-inbox.db')
    .option('--id <delivery-id>', "only the delivery with this id (the sender's, e.g. webhook-id)")
    .option('--since <time>', 'only deliveries received since: an RFC 3339 time, or a duration such as 30m, 2h, 7d')
    .option('--connector <name>', 'only deliveries for this connector')
    .addOption(new Option('--status <status>', 'only deliveries in this state').choices(DELIVERY_STATUSES))
    .option('--limit <n>', 'list at most n deliveries')
    .option('--older-than <duration>', 'prune: only deliveries received longer ago than this (default 7d)')
    .option('-c, --config <file>', 'replay, retry-dead: settings of connectors whose webhooks come from their config (rest)')
    .option('-t, --target <spec>', 'replay, retry-dead: where records go', 'sqlite:sync.db')
    .addOption(new Option('--format <format>', 'list, show: text or JSON').choices(OUTPUT_FORMATS).default('text'))
    .addHelpText('after', INBOX_EXAMPLES)
    .action(async (action: string, _options: unknown, command: Command) => {
      const flags = readInboxFlags(command);
      const { inboxCommand } = await import('./inbox-command.js');
      await inboxCommand(action, flags, io);
    });

  program
    .command('state')
    .description('show, change, clear or rewind the state (bookmarks) a target keeps for a connector; list the states it committed')
    .argument('<action>', 'show, set, clear, history or rewind')
    .argument('[connector]', 'connector name (optional with --state-id)')
    .argument('[state]', 'for set: a state as JSON, merged stream by stream into the stored one (whole with --replace)')
    .option('-t, --target <spec>', 'sqlite:PATH, jsonl:DIR, csv:DIR or postgres://…?schema=NAME', 'sqlite:sync.db')
    .option('--state-id <id>', 'key of the state (default: the connector name; `sync target` uses singer)')
    .option('--stream <name>', "set: the stream whose bookmark --value becomes; clear: clear only this stream's bookmark")
    .option('--value <bookmark>', 'set --stream: the new bookmark, e.g. 2025-06-01T00:00:00Z')
    .option('--file <file>', 'set: read the state from this file')
    .option('--replace', 'set: the state given replaces the whole stored state (other streams\' bookmarks too)')
    .option('--to <id|time>', 'rewind: the committed state to put back: its id (sync state history), or the newest at or before a time (RFC 3339, or 2h ago)')
    .option('--limit <n>', 'history: list at most n states (default 20)')
    .addOption(new Option('--format <format>', 'history: text or JSON lines').choices(OUTPUT_FORMATS).default('text'))
    .addHelpText('after', STATE_EXAMPLES)
    .action(async (action: string, connector: string | undefined, value: string | undefined, _options: unknown, command: Command) => {
      const { stateCommand } = await import('./state-command.js');
      await stateCommand(action, connector, value, readStateFlags(command), io);
    });

  program
    .command('status')
    .description('how fresh the data is: last run and last success per connector, the webhook drain, bookmarks and their age, webhook deliveries; --check for alarms')
    .option('-t, --target <spec>', 'sqlite:PATH, jsonl:DIR, csv:DIR or postgres://USER@HOST:PORT/DB?schema=NAME', 'sqlite:sync.db')
    .option('--journal <file>', "the journal of `sync listen`: last delivery per event type, pending and dead deliveries")
    .addOption(new Option('--format <format>', 'text or JSON').choices(OUTPUT_FORMATS).default('text'))
    .option('--check', 'print only problems, one per line, and exit 1 if there is any')
    .option('--max-age <ages>', 'with --check: the last successful run at most this old (30m, 2h), and/or stream=AGE, webhooks:CONNECTOR=AGE, comma-separated')
    .option('--max-dead <n>', 'with --check and --journal: at most n dead deliveries per connector')
    .addHelpText('after', STATUS_EXAMPLES)
    .action(async (_options: unknown, command: Command) => {
      const { statusCommand } = await import('./status-command.js');
      await statusCommand(readStatusFlags(command), io);
    });

  program
    .command('connectors')
    .description('list the connectors: what each reads, its streams, batch (sync run) and webhooks (sync listen)')
    .addOption(new Option('--format <format>', 'text or JSON').choices(OUTPUT_FORMATS).default('text'))
    .action(async (_options: unknown, command: Command) => {
      const { connectorsCommand } = await import('./connectors-command.js');
      await connectorsCommand(new OptionReader(command).choice('format', OUTPUT_FORMATS) ?? 'text', io);
    });

  // Every command logs, and reports its errors, as these ask: declared once, for all of them.
  for (const command of program.commands) withOutputOptions(command);
  program.hook('preAction', (_program, command) => {
    output.debug ||= new OptionReader(command).switch('debug');
  });

  // Loaded only when the overall help is shown: loading every connector costs start-up time.
  if (connectors) program.addHelpText('after', `\nConnectors (sync connectors for their streams and modes):\n${connectors.join('\n')}`);
  program.addHelpText(
    'after',
    `
Examples:
  sync run sample                                  # batch: a simulated shop into ./sync.db
  sync run rest --config api.json --target -       # any JSON API, as Singer NDJSON on stdout
  sync listen sample                               # trigger: webhooks into the same tables
  sync status --check --max-age 1h                 # exit 1, one line per problem, when data is stale
  sync help run                                    # every flag of a command, with examples

Exit codes: 0 ok, 1 the sync failed, 2 usage or configuration error,
            75 busy or temporary failure (retry later), 130/143 interrupted (work committed),
            141 the reader of stdout closed it early (| head).`,
  );
  return program;
}

/** The exit codes of `errors.ts`, and 141 when the reader of stdout went away (`reader-gone.ts`). */
export type CliExitCode = ExitCodeValue | typeof READER_GONE_EXIT_CODE;

/** Runs the command line and returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<CliExitCode> {
  // Known before parsing, so that errors in the command line itself are reported as asked.
  const output: ReportOptions = { debug: argv.includes('--debug'), json: asksForJsonLogs(argv) };
  try {
    const program = buildProgram(io, output, asksForOverallHelp(argv) ? await connectorList(io) : undefined);
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    return report(err, io, output);
  }
}

interface ReportOptions {
  /** Stack traces with errors. */
  debug: boolean;
  /** Errors as JSON lines, like the log lines of `--log-format json`. */
  json: boolean;
}

/** `sync`, `sync --help`, `sync help`: the help that lists the connectors. */
function asksForOverallHelp(argv: readonly string[]): boolean {
  return argv.length === 0 || (argv.length === 1 && ['--help', '-h', 'help'].includes(argv[0] ?? ''));
}

async function connectorList(io: CliIo): Promise<string[]> {
  const { connectorHelpLines, loadConnectorSummaries } = await import('./connectors-command.js');
  return connectorHelpLines(await loadConnectorSummaries(), io.stdout.isTTY ? io.stdout.columns : undefined);
}

/** `--log-format json` (or `=json`) before any `--`: the option's value as commander will read it. */
function asksForJsonLogs(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return false;
    if (arg === '--log-format=json' || (arg === '--log-format' && argv[i + 1] === 'json')) return true;
  }
  return false;
}

/** What went wrong, as the error line says it. */
interface Failure {
  kind: string;
  message: string;
  details: readonly string[];
  exitCode: ExitCodeValue;
  stack: string | undefined;
}

function report(err: unknown, io: CliIo, output: ReportOptions): CliExitCode {
  // A reader that stops early ends a pipe; nothing went wrong that a line could explain.
  if (err instanceof ReaderGoneError) return READER_GONE_EXIT_CODE;
  const failure = describeFailure(err);
  if (failure === undefined) return ExitCode.ok;
  const stack = output.debug ? failure.stack : undefined;
  if (output.json) {
    const fields = { kind: failure.kind, exit_code: failure.exitCode, details: failure.details, ...(stack ? { stack } : {}) };
    io.stderr.write(scrub(jsonLogLine('error', failure.message, fields), io.secrets));
  } else {
    const lines = [`sync: ${failure.kind}: ${failure.message}`, ...failure.details.map((d) => `  ${d}`), ...(stack ? [stack] : [])];
    io.stderr.write(scrub(lines.join('\n') + '\n', io.secrets));
  }
  return failure.exitCode;
}

/** Undefined for what is no failure: help or the version, printed as asked. */
function describeFailure(err: unknown): Failure | undefined {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return undefined;
    return {
      kind: 'usage error',
      message: err.message.replace(/^error: /, ''),
      details: ['(run with --help for usage)'],
      exitCode: ExitCode.usage,
      stack: undefined,
    };
  }
  if (err instanceof SyncError) {
    const kind =
      err.exitCode === ExitCode.usage ? 'usage error'
      : err instanceof BusyError ? 'busy'
      : err.exitCode === ExitCode.tempFail ? 'retry later'
      : err.exitCode >= 128 ? 'stopped'
      : 'error';
    return { kind, message: err.message, details: err.details, exitCode: err.exitCode, stack: err.stack };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    kind: 'internal error',
    message: e.message,
    details: ['(this is a bug in sync: rerun with --debug for the stack trace, and please report it)'],
    exitCode: ExitCode.failed,
    stack: e.stack,
  };
}

function readRunFlags(command: Command): RunFlags {
  const o = new OptionReader(command);
  return {
    ...readOutputOptions(o),
    target: o.textWithDefault('target'),
    ...ifGiven('config', o.text('config')),
    ...ifGiven('streams', o.text('streams')),
    ...ifGiven('catalog', o.text('catalog')),
    ...ifGiven('state', o.text('state')),
    ...ifGiven('stateId', o.text('stateId')),
    fullRefresh: o.switch('fullRefresh'),
    discover: o.switch('discover'),
    about: o.switch('about'),
    ...ifGiven('format', o.choice('format', OUTPUT_FORMATS)),
    ...ifGiven('record', o.text('record')),
    ...ifGiven('replay', o.text('replay')),
    ...ifGiven('ping', o.text('ping')),
    ...ifGiven('metricsFile', o.text('metricsFile')),
  };
}

function readTargetFlags(command: Command): TargetFlags {
  const o = new OptionReader(command);
  return {
    ...readOutputOptions(o),
    stateId: o.textWithDefault('stateId'),
    // Only what the command line says, so that a --config file can say the rest.
    ...ifGiven('validate', o.givenSwitch('validate')),
    ...ifGiven('batchSize', o.text('batchSize')),
    ...ifGiven('config', o.text('config')),
  };
}

function readListenFlags(command: Command): ListenFlags {
  const o = new OptionReader(command);
  return {
    ...readOutputOptions(o),
    port: o.textWithDefault('port'),
    host: o.textWithDefault('host'),
    target: o.textWithDefault('target'),
    journal: o.textWithDefault('journal'),
    ...ifGiven('config', o.text('config')),
    maxBody: o.textWithDefault('maxBody'),
    requestTimeout: o.textWithDefault('requestTimeout'),
    ...ifGiven('retain', o.text('retain')),
    drain: o.switch('drain'),
    ...ifGiven('metricsPort', o.text('metricsPort')),
    ...ifGiven('metricsHost', o.text('metricsHost')),
  };
}

function readDrainFlags(command: Command): DrainFlags {
  const o = new OptionReader(command);
  return {
    ...readOutputOptions(o),
    journal: o.textWithDefault('journal'),
    target: o.textWithDefault('target'),
    ...ifGiven('config', o.text('config')),
    once: o.switch('once'),
  };
}

function readInboxFlags(command: Command): InboxFlags {
  const o = new OptionReader(command);
  return {
    ...readOutputOptions(o),
    journal: o.textWithDefault('journal'),
    ...ifGiven('id', o.text('id')),
    ...ifGiven('since', o.text('since')),
    ...ifGiven('connector', o.text('connector')),
    ...ifGiven('status', o.choice('status', DELIVERY_STATUSES)),
    ...ifGiven('limit', o.text('limit')),
    ...ifGiven('olderThan', o.text('olderThan')),
    ...ifGiven('config', o.text('config')),
    target: o.textWithDefault('target'),
    format: o.choice('format', OUTPUT_FORMATS) ?? 'text',
  };
}

function readStatusFlags(command: Command): StatusFlags {
  const o = new OptionReader(command);
  return {
    ...readOutputOptions(o),
    target: o.textWithDefault('target'),
    ...ifGiven('journal', o.text('journal')),
    format: o.choice('format', OUTPUT_FORMATS) ?? 'text',
    check: o.switch('check'),
    ...ifGiven('maxAge', o.text('maxAge')),
    ...ifGiven('maxDead', o.text('maxDead')),
  };
}

function readStateFlags(command: Command): StateFlags {
  const o = new OptionReader(command);
  return {
    ...readOutputOptions(o),
    target: o.textWithDefault('target'),
    ...ifGiven('stateId', o.text('stateId')),
    ...ifGiven('stream', o.text('stream')),
    ...ifGiven('value', o.text('value')),
    ...ifGiven('file', o.text('file')),
    replace: o.switch('replace'),
    ...ifGiven('to', o.text('to')),
    ...ifGiven('limit', o.text('limit')),
    ...ifGiven('format', o.choice('format', OUTPUT_FORMATS)),
  };
}
