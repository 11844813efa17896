#!/usr/bin/env node
// The `sync` command: process wiring only (signals, exit code); everything else is in src/cli.
import { main } from '../dist/src/cli/main.js';

const controller = new AbortController();
let interruptedBy;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // A second signal means "now": leave without waiting for the commit.
    if (interruptedBy) process.exit(signal === 'SIGINT' ? 130 : 143);
    interruptedBy = signal;
    controller.abort();
  });
}
// A closed stdout (`| head`) is noticed by the command writing to it (src/cli/reader-gone.ts), not a crash.
process.stdout.on('error', () => {});

const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  secrets: [],
  signal: controller.signal,
  interruptedBy: () => interruptedBy,
};
process.exitCode = await main(process.argv.slice(2), io);
