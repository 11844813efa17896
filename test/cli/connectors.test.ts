import { describe, expect, it } from 'vitest';
import { runSync } from '../helpers/cli.js';

/** `sync connectors` and the list in `sync --help`, from the registry and each connector's own declaration. */

interface Listed {
  name: string;
  description: string;
  streams: string[] | null;
  batch: boolean;
  webhooks: string;
}

describe('sync connectors', () => {
  it('lists each connector with its description, streams and modes', async () => {
    const result = await runSync(['connectors']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^sample +An offline simulated shop account/m);
    expect(result.stdout).toMatch(/^ +streams: customers, orders\n +batch \(sync run sample\), webhooks \(sync listen sample\)$/m);
    expect(result.stdout).toMatch(/^rest +Any JSON REST API/m);
    expect(result.stdout).toMatch(/^ +streams: from its config \(sync run rest --config FILE --discover\)$/m);
    expect(result.stdout).toMatch(/^ +streams: built from its settings \(sync run github --discover lists them\)\n +batch \(sync run github\), webhooks \(sync listen github\)$/m);
  });

  it('as JSON, one object per connector', async () => {
    const result = await runSync(['connectors', '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const listed = JSON.parse(result.stdout) as Listed[];
    expect(listed.find((c) => c.name === 'sample')).toMatchObject({ streams: ['customers', 'orders'], batch: true, webhooks: 'yes' });
    expect(listed.find((c) => c.name === 'rest')).toMatchObject({ streams: null, batch: true, webhooks: 'from config' });
    // Streams built from settings, webhooks always there: not a description's to give.
    expect(listed.find((c) => c.name === 'stripe')).toMatchObject({ streams: null, batch: true, webhooks: 'yes' });
    const names = listed.map((c) => c.name);
    expect(names).toEqual([...names].sort());
  });

  it('sync --help lists them too; a command\'s help does not load them', async () => {
    const help = await runSync(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/\nConnectors \(sync connectors for their streams and modes\):\n(  \S+ +.+\n)+/);
    expect(help.stdout).toMatch(/^  sample +An offline simulated shop/m);
    const bare = await runSync([]);
    expect(bare.stdout).toMatch(/^  sample +An offline simulated shop/m);
    const runHelp = await runSync(['run', '--help']);
    expect(runHelp.stdout).not.toMatch(/Connectors \(/);
  });
});
