import { brotliDecompress, gunzip, inflate, inflateRaw } from 'node:zlib';
import { promisify } from 'node:util';

/**
 * Content-Encoding decoding. undici's `request` hands over the bytes as sent, so the client
 * advertises gzip, br and deflate and undoes them here (on the zlib thread pool, not the
 * event loop). zlib's strict end-of-stream check turns a cut-off body into an error.
 */

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);
const brotliAsync = promisify(brotliDecompress);

export const ACCEPT_ENCODING = 'gzip, br, deflate';

export class UnsupportedEncodingError extends Error {
  override name = 'UnsupportedEncodingError';
}

/** Undoes the codings listed in a Content-Encoding value (applied in order, so undone in reverse). */
export async function decodeBody(body: Buffer, contentEncoding: string): Promise<Buffer> {
  const codings = contentEncoding.toLowerCase().split(',');
  let out = body;
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = (codings[i] ?? '').trim();
    if (out.length === 0) break;
    switch (coding) {
      case '':
      case 'identity':
        break;
      case 'gzip':
      case 'x-gzip':
        out = await gunzipAsync(out);
        break;
      case 'br':
        out = await brotliAsync(out);
        break;
      case 'deflate':
        // "deflate" should be zlib-wrapped, but some servers send raw deflate: look at the header.
        out = hasZlibHeader(out) ? await inflateAsync(out) : await inflateRawAsync(out);
        break;
      default:
        throw new UnsupportedEncodingError(`unsupported content-encoding ${JSON.stringify(coding)}`);
    }
  }
  return out;
}

function hasZlibHeader(buf: Buffer): boolean {
  if (buf.length < 2) return false;
  const cmf = buf[0] ?? 0;
  const flg = buf[1] ?? 0;
  return (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
}
