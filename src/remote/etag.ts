// Entity tags are kept as the server meant them: quoted, weak prefix kept. Some servers send them
// unquoted in PROPFIND (nephele: `2e8d29c6`, `-554e0345`); those are quoted so they can be sent back
// in If-Match / If-None-Match, which require the quoted form (RFC 9110 §8.8.3).

export function normalizeEtag(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const text = String(raw).trim();
  if (!text) return undefined;
  if (/^W\//i.test(text)) return 'W/' + quote(text.slice(2).trim());
  return quote(text);
}

function quote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text : `"${text.replace(/"/g, '')}"`;
}

export function isWeakEtag(etag: string | undefined): boolean {
  return !!etag && /^W\//i.test(etag);
}
