// Parsing of WebDAV 207 Multi-Status bodies (RFC 4918 §13), as a stream: the answer is fed in chunks
// as it arrives, so a huge or endless answer is refused at a limit instead of being held whole, and the
// caller can yield to the event loop between chunks (a listing of 200,000 items never blocks the
// extension host in one go). The XML parser (saxes) never expands entities other than the five
// predefined ones and never reads a DTD: billion-laughs and XXE answers are errors, not expansions.
// Values are kept as text: the `webdav` client's own parser turns all-digit etags into numbers.
import { SaxesParser } from 'saxes';
import { normalizeEtag } from './etag';
import type { EntryType, Permissions } from './remoteFs';

/**
 * The body of a PROPFIND: the standard properties; where asked (`ids`), the item's stable id and
 * permissions that some servers have (Nextcloud/ownCloud `oc:`; RFC 5842 resource-id, RFC 3744
 * current-user-privilege-set); and where asked (`quota`), the quota (RFC 4331). A server that does not
 * know a property lists it as 404, which is skipped — at a cost: nephele lists each one in a 404 block of
 * its own (a listing 1.8× as long), so a share stops asking for the ids once a listing showed none of
 * them (remote/webdavRemote.ts). The quota only at the share's root (Show Cache Usage, the reconnect's
 * warning): it can cost a server a walk of each folder's subtree (nephele answers a Depth: infinity
 * listing of 500 items ten times slower with it).
 */
export function propfindBody(options: { quota: boolean; ids: boolean }): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<D:propfind xmlns:D="DAV:" xmlns:oc="http://owncloud.org/ns"><D:prop>' +
    '<D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:creationdate/><D:getetag/><D:getcontenttype/>' +
    (options.ids ? '<oc:fileid/><oc:permissions/><D:resource-id/><D:current-user-privilege-set/>' : '') +
    (options.quota ? '<D:quota-available-bytes/><D:quota-used-bytes/>' : '') +
    '</D:prop></D:propfind>'
  );
}

export interface MultistatusItem {
  /** The response's href exactly as sent (still percent-encoded; see remote/hrefs.ts). */
  readonly href: string;
  /** The response-level status (e.g. for MOVE/COPY), or undefined. */
  readonly status?: number;
  readonly props?: {
    type: EntryType;
    size: number;
    mtime?: number;
    ctime?: number;
    etag?: string;
    contentType?: string;
    fileId?: string;
    permissions?: Permissions;
    quota?: { available?: number; used?: number };
    /** `DAV:current-user-principal`'s href (asked for by discovery only). */
    principal?: string;
  };
}

export interface MultistatusLimits {
  /** Most `response` elements accepted. */
  readonly maxEntries: number;
}

/** Why an answer could not be read as a multistatus; the message says it in words. */
export class MultistatusError extends Error {
  constructor(
    message: string,
    /** `limit`: too many entries; `invalid`: not (well-formed) WebDAV XML. */
    readonly kind: 'limit' | 'invalid',
  ) {
    super(message);
    this.name = 'MultistatusError';
  }
}

/** Deeper than any real multistatus (multistatus/response/propstat/prop/resourcetype/collection is 6). */
const MAX_DEPTH = 32;
/** Longer values are not kept: an href is skipped, an etag counts as absent. */
const MAX_VALUE_CHARS = 8192;
const TOO_LONG = Symbol('too long');

type Text = string | typeof TOO_LONG;

interface Pending {
  href?: Text;
  status?: Text;
  props?: Record<string, Text | true>;
  /** The propstat being read. */
  propstat?: { status?: Text; props: Record<string, Text | true> };
}

/** Incremental multistatus parser: `write()` chunks of text as they arrive, then `end()`. */
export class MultistatusReader {
  private readonly parser = new SaxesParser({ position: false });
  private readonly stack: string[] = [];
  private readonly items: MultistatusItem[] = [];
  private current?: Pending;
  /** Text of the element being read, when it is one we keep. */
  private text?: string;
  private textTooLong = false;
  private failure?: MultistatusError;

  constructor(private readonly limits: MultistatusLimits = { maxEntries: Number.MAX_SAFE_INTEGER }) {
    this.parser.on('error', err => this.fail(`malformed XML (${err.message.replace(/^[^:]*:\d+:\d+: /, '')})`));
    this.parser.on('doctype', () => this.fail('a document type declaration is not allowed in a WebDAV answer'));
    this.parser.on('opentag', tag => this.open(localName(tag.name)));
    this.parser.on('closetag', () => this.close());
    this.parser.on('text', t => this.addText(t));
    this.parser.on('cdata', t => this.addText(t));
  }

  /** Entries read so far (taken ones included). */
  get count(): number {
    return this.items.length + this.taken;
  }

  /** Entries handed out by take() so far. */
  private taken = 0;

  /**
   * The entries read since the last call, handed over (a long answer — a whole tree — is consumed as
   * it arrives instead of being held whole); the limit counts them all.
   */
  take(): MultistatusItem[] {
    const out = this.items.splice(0);
    this.taken += out.length;
    return out;
  }

  /** Feeds the next chunk; throws a MultistatusError as soon as the answer is known to be bad. */
  write(chunk: string): void {
    if (this.failure) throw this.failure;
    this.parser.write(chunk);
    if (this.failure) throw this.failure;
  }

  /** Ends the input; resolves the entries or throws a MultistatusError. */
  end(): MultistatusItem[] {
    if (!this.failure) this.parser.close();
    if (this.failure) throw this.failure;
    if (!this.sawRoot) throw new MultistatusError('the answer is empty, not a WebDAV multistatus', 'invalid');
    return this.items;
  }

  private sawRoot = false;

  private fail(message: string, kind: 'limit' | 'invalid' = 'invalid'): void {
    this.failure ??= new MultistatusError(message, kind);
  }

  private open(name: string): void {
    if (this.failure) return;
    const depth = this.stack.push(name);
    if (depth > MAX_DEPTH) return this.fail(`the XML is nested more than ${MAX_DEPTH} levels deep`);
    if (depth === 1) {
      if (name !== 'multistatus') return this.fail(`the answer is <${name}>, not a WebDAV multistatus`);
      this.sawRoot = true;
      return;
    }
    const path = this.stack;
    if (depth === 2 && name === 'response') {
      if (this.count >= this.limits.maxEntries) {
        return this.fail(`the listing has more than ${this.limits.maxEntries} entries`, 'limit');
      }
      this.current = {};
    } else if (depth === 3 && path[1] === 'response' && (name === 'href' || name === 'status')) {
      this.startText();
    } else if (depth === 3 && path[1] === 'response' && name === 'propstat' && this.current) {
      this.current.propstat = { props: {} };
    } else if (depth === 4 && path[2] === 'propstat' && name === 'status') {
      this.startText();
    } else if (depth === 5 && path[3] === 'prop' && path[2] === 'propstat') {
      this.startText();
    } else if (depth === 6 && path[4] === 'resourcetype' && name === 'collection' && this.current?.propstat) {
      this.current.propstat.props.collection = true;
    } else if (depth === 6 && (path[4] === 'resource-id' || path[4] === 'current-user-principal') && name === 'href') {
      this.startText();
    } else if (depth === 7 && path[4] === 'current-user-privilege-set' && path[5] === 'privilege' && this.current?.propstat) {
      // each privilege the user has: a name (write, write-content, bind, unbind, all, …)
      const had = this.current.propstat.props.privileges;
      this.current.propstat.props.privileges = `${typeof had === 'string' ? had + ' ' : ''}${name}`;
    }
  }

  private close(): void {
    if (this.failure) return;
    const path = [...this.stack];
    const name = this.stack.pop();
    const depth = path.length;
    const c = this.current;
    if (!c) return;
    if (depth === 2 && name === 'response') {
      this.finish(c);
      this.current = undefined;
    } else if (depth === 3 && path[1] === 'response' && name === 'href') {
      c.href = this.takeText();
    } else if (depth === 3 && path[1] === 'response' && name === 'status') {
      c.status = this.takeText();
    } else if (depth === 3 && name === 'propstat' && c.propstat) {
      const code = c.propstat.status === undefined || c.propstat.status === TOO_LONG ? 200 : parseStatusLine(c.propstat.status);
      if (code !== undefined && code >= 200 && code < 300) c.props = { ...c.props, ...c.propstat.props };
      c.propstat = undefined;
    } else if (depth === 4 && path[2] === 'propstat' && name === 'status' && c.propstat) {
      c.propstat.status = this.takeText();
    } else if (depth === 6 && (path[4] === 'resource-id' || path[4] === 'current-user-principal') && name === 'href' && c.propstat) {
      const value = this.takeText();
      if (value !== undefined) c.propstat.props[path[4]] = value;
    } else if (depth === 5 && path[3] === 'prop' && c.propstat && name) {
      if (name === 'resource-id' || name === 'current-user-principal' || name === 'current-user-privilege-set') {
        this.takeText(); // their values were read from their children
        if (name === 'current-user-privilege-set' && c.propstat.props.privileges === undefined) c.propstat.props.privileges = '';
      } else {
        const value = this.takeText();
        if (name !== 'resourcetype') c.propstat.props[name] = value ?? '';
      }
    }
  }

  private startText(): void {
    this.text = '';
    this.textTooLong = false;
  }

  private addText(t: string): void {
    if (this.text === undefined || this.textTooLong) return;
    if (this.text.length + t.length > MAX_VALUE_CHARS) {
      this.textTooLong = true;
      this.text = '';
      return;
    }
    this.text += t;
  }

  private takeText(): Text | undefined {
    // a copy: the parser's text is a slice of the chunk it came in, and a value kept in the cache (an
    // etag) would keep that whole chunk alive — 80 MB held for a 100,000-entry tree listed folder by folder
    const t = this.textTooLong ? TOO_LONG : this.text === undefined ? undefined : (' ' + this.text.trim()).slice(1);
    this.text = undefined;
    this.textTooLong = false;
    return t;
  }

  private finish(c: Pending): void {
    if (typeof c.href !== 'string' || !c.href) return; // no usable href: nothing can be said about it
    const status = typeof c.status === 'string' ? parseStatusLine(c.status) : undefined;
    this.items.push({ href: c.href, status, props: c.props ? toProps(c.props) : undefined });
  }
}

/** Parses a whole multistatus document (small answers: MOVE/COPY/DELETE errors, tests). */
export function parseMultistatus(xml: string, limits?: MultistatusLimits): MultistatusItem[] {
  const reader = new MultistatusReader(limits);
  reader.write(xml);
  return reader.end();
}

function localName(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

function toProps(p: Record<string, Text | true>): NonNullable<MultistatusItem['props']> {
  const isDir = p.collection === true;
  const text = (v: Text | true | undefined) => (typeof v === 'string' && v !== '' ? v : undefined);
  const size = Number(text(p.getcontentlength));
  const fileId = text(p.fileid) ?? text(p['resource-id']);
  const quota = { available: count(text(p['quota-available-bytes'])), used: count(text(p['quota-used-bytes'])) };
  const principal = text(p['current-user-principal']);
  return {
    type: isDir ? 'directory' : 'file',
    size: isDir || !Number.isFinite(size) || size < 0 ? 0 : size,
    mtime: parseDate(text(p.getlastmodified)),
    ctime: parseDate(text(p.creationdate)),
    etag: normalizeEtag(text(p.getetag)),
    contentType: text(p.getcontenttype),
    ...(fileId && fileId.length <= 256 && !/[\u0000-\u001f]/.test(fileId) ? { fileId } : {}),
    ...permissionsOf(isDir, text(p.permissions), typeof p.privileges === 'string' ? p.privileges : undefined),
    ...(quota.available !== undefined || quota.used !== undefined ? { quota } : {}),
    ...(principal ? { principal } : {}),
  };
}

/** A non-negative whole number of bytes, or undefined (Nextcloud sends -3 for "unlimited"). */
function count(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,16}$/.test(v.trim())) return undefined;
  return Number(v);
}

/**
 * What the user may do, from Nextcloud/ownCloud's `oc:permissions` letters (G read, W write a file, C/K
 * create in a folder, D delete, N rename, V move, …) or RFC 3744's current-user-privilege-set.
 */
function permissionsOf(isDir: boolean, letters: string | undefined, privileges: string | undefined): { permissions?: Permissions } {
  if (letters !== undefined && /^[A-Z]*$/.test(letters)) {
    const has = (c: string) => letters.includes(c);
    return { permissions: { write: isDir ? has('C') || has('K') : has('W'), delete: has('D'), rename: has('N') || has('V') } };
  }
  if (privileges !== undefined) {
    const has = new Set(privileges.split(' ').filter(Boolean));
    const all = has.has('all');
    const write = all || has.has('write') || (isDir ? has.has('bind') : has.has('write-content'));
    return { permissions: { write, delete: all || has.has('write') || has.has('unbind'), rename: all || has.has('write') || has.has('unbind') } };
  }
  return {};
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
