import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { isJsonObject, type JsonValue } from '../protocol/json.js';
import { readJsonFile } from './files.js';
import { positiveInteger } from './options.js';

/**
 * How `sync target` loads: records per commit and whether records are validated. From the
 * command line, else from `--config FILE` (orchestrators such as Meltano hand every target
 * a config file: its `batch_size` and `validate` keys are used, the rest is theirs and
 * ignored), else the defaults.
 */

export interface TargetSettings {
  batchRecords: number;
  validate: boolean;
}

export const DEFAULT_BATCH_RECORDS = 5_000;

/** The keys of a target config file that `sync target` reads. */
const KNOWN_KEYS = ['batch_size', 'validate'];

export interface TargetSettingsSources {
  /** `--batch-size`, when given on the command line. */
  batchSize?: string;
  /** `--no-validate` given: false; not given: undefined. */
  validate?: boolean;
  /** `--config FILE`. */
  config?: string;
}

export function targetSettings(sources: TargetSettingsSources, log: Logger): TargetSettings {
  const file = sources.config === undefined ? undefined : configFile(sources.config, log);
  const batchRecords =
    sources.batchSize !== undefined ? positiveInteger(sources.batchSize, '--batch-size')
    : file?.batchSize !== undefined ? file.batchSize
    : DEFAULT_BATCH_RECORDS;
  return { batchRecords, validate: sources.validate ?? file?.validate ?? true };
}

function configFile(path: string, log: Logger): { batchSize?: number; validate?: boolean } {
  const value: JsonValue | undefined = readJsonFile(path, '--config');
  if (!isJsonObject(value)) throw new UsageError(`--config ${path}: must be a JSON object`);
  const ignored = Object.keys(value).filter((key) => !KNOWN_KEYS.includes(key));
  // Debug, not a warning: an orchestrator passes its whole plugin config on every run.
  if (ignored.length) log.debug(`--config ${path}: keys sync target does not use are ignored: ${ignored.join(', ')}`);
  const out: { batchSize?: number; validate?: boolean } = {};
  const batchSize = value['batch_size'];
  if (batchSize !== undefined) {
    if (typeof batchSize !== 'number' || !Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new UsageError(`--config ${path}: batch_size must be a positive integer (got ${JSON.stringify(batchSize)})`);
    }
    out.batchSize = batchSize;
  }
  const validate = value['validate'];
  if (validate !== undefined) {
    if (typeof validate !== 'boolean') throw new UsageError(`--config ${path}: validate must be true or false (got ${JSON.stringify(validate)})`);
    out.validate = validate;
  }
  return out;
}
