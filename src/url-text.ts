/**
 * URLs read as they were received: percent-escapes decoded where they are valid and kept as
 * written where they are not, so a malformed URL never throws where only a name is looked up.
 */

/** `text` percent-decoded; as written when an escape in it is broken. */
export function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * `url` with the value of every query parameter whose name `matches` replaced by `replacement`,
 * everything else byte for byte as it was (a URLSearchParams round trip would re-encode the
 * other parameters). Names are matched decoded, `+` as a space, as a query is read.
 */
export function withQueryValuesReplaced(url: string, matches: (name: string) => boolean, replacement: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = hash < 0 ? url.slice(q + 1) : url.slice(q + 1, hash);
  const pairs = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    return matches(percentDecoded(key.replace(/\+/g, ' '))) ? `${key}=${replacement}` : pair;
  });
  return `${url.slice(0, q + 1)}${pairs.join('&')}${hash < 0 ? '' : url.slice(hash)}`;
}
