// Parsing of WebDAV 207 Multi-Status bodies (RFC 4918 §13). Values are kept as text: the `webdav`
// client's own parser turns all-digit etags into numbers and `-554e0345` into -Infinity.
import { XMLParser } from 'fast-xml-parser';
import { decodePath, normalizePath } from '../core/remotePath';
import { normalizeEtag } from './etag';
import type { EntryType } from './remoteFs';

export const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?>' +
  '<D:propfind xmlns:D="DAV:"><D:prop>' +
  '<D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:creationdate/><D:getetag/><D:getcontenttype/>' +
  '</D:prop></D:propfind>';

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name, jpath) => jpath === 'multistatus.response' || jpath === 'multistatus.response.propstat',
});

export interface MultistatusItem {
  /** Decoded absolute URL path of the response's href. */
  readonly hrefPath: string;
  /** The response-level status (e.g. for MOVE/COPY), or undefined. */
  readonly status?: number;
  readonly props?: {
    type: EntryType;
    size: number;
    mtime?: number;
    ctime?: number;
    etag?: string;
    contentType?: string;
  };
}

export function parseMultistatus(xml: string): MultistatusItem[] {
  let doc: any;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    throw new Error(`Invalid response: malformed multistatus XML (${(err as Error).message})`);
  }
  const ms = doc?.multistatus;
  if (ms === undefined) throw new Error('Invalid response: No root multistatus found');
  const responses: any[] = ms === '' ? [] : (ms.response ?? []);
  return responses.map(r => {
    const hrefPath = hrefToPath(String(r.href ?? ''));
    const status = r.status !== undefined ? parseStatusLine(String(r.status)) : undefined;
    let props: Record<string, any> | undefined;
    for (const ps of r.propstat ?? []) {
      const code = ps.status !== undefined ? parseStatusLine(String(ps.status)) : 200;
      if (code !== undefined && code >= 200 && code < 300 && ps.prop && typeof ps.prop === 'object') {
        props = { ...props, ...ps.prop };
      }
    }
    return { hrefPath, status, props: props ? toProps(props) : undefined };
  });
}

function toProps(p: Record<string, any>): NonNullable<MultistatusItem['props']> {
  const rt = p.resourcetype;
  const isDir = typeof rt === 'object' && rt !== null && 'collection' in rt;
  const size = Number(text(p.getcontentlength));
  return {
    type: isDir ? 'directory' : 'file',
    size: isDir || !Number.isFinite(size) ? 0 : size,
    mtime: parseDate(text(p.getlastmodified)),
    ctime: parseDate(text(p.creationdate)),
    etag: normalizeEtag(text(p.getetag)),
    contentType: text(p.getcontenttype) || undefined,
  };
}

/** A prop's text; lighttpd sends `<getlastmodified ns0:dt="…">text</getlastmodified>`. */
function text(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'object') return (v as any)['#text'] !== undefined ? String((v as any)['#text']) : undefined;
  return String(v);
}

function parseDate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

export function parseStatusLine(line: string): number | undefined {
  const m = /HTTP\/[\d.]+\s+(\d{3})/i.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** `http://h/a%20b/` or `/a%20b/` → `/a b` (decoded, normalised). */
export function hrefToPath(href: string): string {
  let path = href;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(href);
  if (m) path = href.slice(m[0].length) || '/';
  return normalizePath(decodePath(path));
}
