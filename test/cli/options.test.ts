import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { OptionReader, readOutputOptions } from '../../src/cli/options.js';

/** Flags reach a command only under the names it declares, with the types it declares. */

function parsed(argv: string[]): Command {
  const command = new Command('demo')
    .exitOverride()
    .option('-t, --target <spec>', 'target', 'sqlite:sync.db')
    .option('--state-id <id>', 'state id')
    .option('--no-validate', 'skip validation')
    .option('-q, --quiet', 'quiet')
    .option('--debug', 'debug')
    .addOption(new Option('--log-format <format>', 'format').choices(['text', 'json']).default('text'));
  command.parse(argv, { from: 'user' });
  return command;
}

describe('reading parsed options', () => {
  it('reads values, defaults and switches by their declared names', () => {
    const options = new OptionReader(parsed(['--state-id', 'acme', '--no-validate', '-q']));
    expect(options.text('stateId')).toBe('acme');
    expect(options.textWithDefault('target')).toBe('sqlite:sync.db');
    expect(options.switch('validate')).toBe(false);
    expect(readOutputOptions(options)).toEqual({ quiet: true, debug: false, logFormat: 'text' });
  });

  it('tells a value given on the command line from a default', () => {
    const defaults = new OptionReader(parsed([]));
    expect(defaults.givenText('target')).toBeUndefined();
    expect(defaults.givenSwitch('validate')).toBeUndefined();
    expect(defaults.switch('validate')).toBe(true);
    const given = new OptionReader(parsed(['--target', 'sqlite:sync.db', '--no-validate']));
    expect(given.givenText('target')).toBe('sqlite:sync.db');
    expect(given.givenSwitch('validate')).toBe(false);
  });

  it('refuses a name the command does not declare, instead of reading undefined', () => {
    const options = new OptionReader(parsed([]));
    expect(() => options.text('stateID')).toThrow('internal: `sync demo` declares no option "stateID"');
    expect(() => options.switch('full-refresh')).toThrow(/declares no option "full-refresh"/);
  });

  it('refuses a value of another type than asked for', () => {
    const options = new OptionReader(parsed(['--state-id', 'acme']));
    expect(() => options.switch('stateId')).toThrow(/option "stateId" of `sync demo` should be a switch, got "acme"/);
    expect(() => options.text('validate')).toThrow(/should be text, got true/);
    expect(() => options.choice('target', ['a', 'b'])).toThrow(/should be one of a, b/);
  });
});
