import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { OutputOptions } from './io.js';

/**
 * Reads a command's parsed options by the names the command declared. Commander hands them
 * over as an untyped record, where a renamed option would silently read as `undefined`;
 * here a name the command does not declare, or a value of another type than expected, is a
 * bug reported the first time the command runs.
 */
export class OptionReader {
  constructor(private readonly command: Command) {}

  /** An option that takes a value; undefined when it was not given and has no default. */
  text(name: string): string | undefined {
    const value = this.value(name);
    if (value === undefined || typeof value === 'string') return value;
    throw this.mismatch(name, 'text', value);
  }

  /** An option with a default value, so it always has one. */
  textWithDefault(name: string): string {
    const value = this.text(name);
    if (value === undefined) throw this.mismatch(name, 'a default value', value);
    return value;
  }

  /** The value only when given on the command line: undefined while it still holds its default. */
  givenText(name: string): string | undefined {
    return this.given(name) ? this.text(name) : undefined;
  }

  /** A value restricted by `.choices()`; undefined when not given and without default. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    const known = choices.find((c) => c === value);
    if (known === undefined) throw this.mismatch(name, `one of ${choices.join(', ')}`, value);
    return known;
  }

  /** A switch such as `--quiet`, or the positive side of `--no-validate`: false when absent. */
  switch(name: string): boolean {
    const value = this.value(name);
    if (value === undefined) return false;
    if (typeof value === 'boolean') return value;
    throw this.mismatch(name, 'a switch', value);
  }

  /** A switch, only when given on the command line: undefined while it still holds its default. */
  givenSwitch(name: string): boolean | undefined {
    return this.given(name) ? this.switch(name) : undefined;
  }

  private given(name: string): boolean {
    const source = this.command.getOptionValueSource(this.declared(name));
    return source !== undefined && source !== 'default';
  }

  private value(name: string): unknown {
    const values: Record<string, unknown> = this.command.opts();
    return values[this.declared(name)];
  }

  private declared(name: string): string {
    if (!this.command.options.some((o) => o.attributeName() === name)) {
      throw new Error(`internal: \`sync ${this.command.name()}\` declares no option "${name}"`);
    }
    return name;
  }

  private mismatch(name: string, expected: string, got: unknown): Error {
    return new Error(`internal: option "${name}" of \`sync ${this.command.name()}\` should be ${expected}, got ${JSON.stringify(got)}`);
  }
}

/** `--quiet`, `--log-format`, `--debug`, as every command that logs declares them. */
export function readOutputOptions(options: OptionReader): OutputOptions {
  return {
    quiet: options.switch('quiet'),
    debug: options.switch('debug'),
    ...ifGiven('logFormat', options.choice('logFormat', LOG_FORMATS)),
  };
}

export const LOG_FORMATS = ['text', 'json'] as const;

/** `{}` or `{ [key]: value }`: an optional flag stays absent instead of holding `undefined`. */
export function ifGiven<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  const out: Partial<Record<K, V>> = {};
  if (value !== undefined) out[key] = value;
  return out;
}

/** A flag's value that must be a whole number of 1 or more, written in digits (`--limit 50`). */
export function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}
