import { parseTargetSpec, type TargetSpec } from '../targets/spec.js';
import { addSecret, type CliIo } from './io.js';

/**
 * `--target` as the commands read it: parsed, and any credential in it (a PostgreSQL password
 * in the URL) added to the secrets every line on stderr is scrubbed of.
 */
export function targetSpecOf(text: string, io: CliIo): TargetSpec {
  const spec = parseTargetSpec(text);
  if (spec.kind === 'postgres') for (const secret of spec.secrets) addSecret(io, secret);
  return spec;
}
