// Entity tags are kept as the server meant them: quoted, weak prefix kept. Some servers send them
// unquoted in PROPFIND (nephele: `2e8d29c6`, `-554e0345`); those are quoted so they can be sent back
// in If-Match / If-None-Match, which require the quoted form (RFC 9110 §8.8.3).
// An etag that could not be sent back as a header (a control character, a newline) or that is absurdly
// long (> 1 KB: a header a server or proxy would refuse with 431) is treated as absent: the item is then
// compared by mtime + size, and nothing hostile is ever echoed into a request.

const MAX_ETAG_CHARS = 1024;
/** C0 controls and DEL; also anything outside Latin-1, which a header cannot carry. */
const UNSENDABLE = /[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/;

export function normalizeEtag(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const text = String(raw).trim();
  if (!text || text.length > MAX_ETAG_CHARS || UNSENDABLE.test(text)) return undefined;
  if (/^W\//i.test(text)) return 'W/' + quote(text.slice(2).trim());
  return quote(text);
}

function quote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text : `"${text.replace(/"/g, '')}"`;
}

/** A weak validator (`W/"…"`): Apache gives one for about a second after each change. */
export function isWeakEtag(etag: string | undefined): boolean {
  return !!etag && /^W\//i.test(etag);
}

/** Weak comparison (RFC 9110 §8.8.3.2): the same opaque tag, whether either side is weak. */
export function weakEtagEquals(a: string | undefined, b: string | undefined): boolean {
  return !!a && !!b && a.replace(/^W\//i, '') === b.replace(/^W\//i, '');
}
