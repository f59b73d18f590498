// Where a share lives: `dav://host:port/base/` ↔ `http://host:port/base/` (`davs:` ↔ `https:`).
// A share is identified by scheme + authority + base path; several can be open at once.
import { decodePath, encodePath, normalizePath } from './remotePath';

export type ShareScheme = 'dav' | 'davs';

export interface ShareLocation {
  readonly scheme: ShareScheme;
  /** host[:port], lower-case host. */
  readonly authority: string;
  /** Decoded base path of the share on the server, e.g. `/share` (root is `/`). */
  readonly basePath: string;
}

export function shareKey(loc: ShareLocation): string {
  return `${loc.scheme}://${loc.authority}${loc.basePath === '/' ? '/' : loc.basePath + '/'}`;
}

export function httpOrigin(loc: ShareLocation): string {
  return `${loc.scheme === 'davs' ? 'https' : 'http'}://${loc.authority}`;
}

/** The share's base as an http(s) URL, percent-encoded, without trailing slash (`http://h:1/my%20share`). */
export function httpBaseUrl(loc: ShareLocation): string {
  return httpOrigin(loc) + (loc.basePath === '/' ? '' : encodePath(loc.basePath));
}

export function isShareScheme(scheme: string): scheme is ShareScheme {
  return scheme === 'dav' || scheme === 'davs';
}

export interface ParsedShareUrl {
  location: ShareLocation;
  /** User name taken from the URL (`http://alice@host/`), if any. */
  username?: string;
  /** Password taken from the URL; the caller moves it to secret storage, it never stays in a URI. */
  password?: string;
}

/**
 * Parses what a person types into "Open Folder…": `http(s)://`, `dav(s)://` or `webdav(s)://` URLs,
 * or a bare `host:port/path` (taken as http). Throws an Error whose message says what is wrong.
 */
export function parseShareUrl(input: string): ParsedShareUrl {
  const text = input.trim();
  if (!text) throw new Error('Enter the address of a WebDAV folder, e.g. https://example.com/dav/');
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  const given = m ? m[1].toLowerCase() : 'http';
  const scheme: ShareScheme | undefined =
    given === 'http' || given === 'dav' || given === 'webdav'
      ? 'dav'
      : given === 'https' || given === 'davs' || given === 'webdavs'
        ? 'davs'
        : undefined;
  if (!scheme) throw new Error(`"${given}:" is not a WebDAV address; use http://, https://, dav:// or davs://`);
  let url: URL;
  try {
    url = new URL(`${scheme === 'davs' ? 'https' : 'http'}://${m ? text.slice(m[0].length) : text}`);
  } catch {
    throw new Error(`"${redactAddress(text)}" is not a valid address`);
  }
  if (!url.hostname) throw new Error(`"${redactAddress(text)}" has no host name`);
  if (url.search || url.hash) throw new Error('A WebDAV folder address cannot contain "?" or "#"; percent-encode them');
  const basePath = normalizePath(decodePath(url.pathname));
  return {
    location: { scheme, authority: url.host.toLowerCase(), basePath },
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
}

/** An authority as VS Code gives it (`alice:pw@host:port`): the host part (lower-case) and the user info. */
export function splitAuthority(authority: string): { authority: string; username?: string; password?: string } {
  const at = authority.lastIndexOf('@');
  if (at < 0) return { authority: authority.toLowerCase() };
  const info = authority.slice(0, at);
  const colon = info.indexOf(':');
  const decode = (v: string) => {
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  };
  return {
    authority: authority.slice(at + 1).toLowerCase(),
    username: decode(colon < 0 ? info : info.slice(0, colon)) || undefined,
    password: colon < 0 ? undefined : decode(info.slice(colon + 1)),
  };
}

/** The text with any `user:password@` of an address taken out (for messages and logs). */
export function redactAddress(text: string): string {
  return text.replace(/((?:[a-z][a-z0-9+.-]*:)?\/\/)[^/@\s]*@/gi, '$1').replace(/^[^/@\s:]+:[^/@\s]*@/, '');
}
