/**
 * Node's own per-encoding Buffer methods, which `write` and `toString` call after checking
 * their arguments. Hot loops that already know their offsets are in range call them
 * directly: once per line or per value, the checks cost as much as the copy.
 */
export interface RawBuffer extends Buffer {
  utf8Write(value: string, offset: number): number;
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

export function raw(buffer: Buffer): RawBuffer {
  return buffer as RawBuffer;
}
