// From a server's href to a share path, refusing what must not be trusted. An href is the server's
// word for where an item lives; a hostile or broken server can point it anywhere: at another host, above
// the share (`..`, `%2e%2e`), or at a name that cannot be a name (`a%2Fb`, control characters). Such
// entries are skipped with a reason (logged by the caller); everything else becomes a decoded share
// path that remote/requestTarget encodes back exactly (core/remotePath.ts: `encodePath`).
import { relativeTo } from '../core/remotePath';

export type HrefResult = { readonly path: string } | { readonly skip: string };

/** Characters no name may hold: C0 and C1 controls and DEL (a NUL or newline in a name is an attack or a bug). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The share path an href names, or why it is skipped. `origin` is the share's `scheme://host:port`
 * (lower-case), `basePath` the share's decoded base path.
 */
export function hrefToSharePath(href: string, origin: string, basePath: string): HrefResult {
  let path = href.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(path);
  if (scheme) {
    let url: URL;
    try {
      url = new URL(path);
    } catch {
      return { skip: 'an address that cannot be read' };
    }
    if (url.origin.toLowerCase() !== origin.toLowerCase()) return { skip: `on another server (${url.origin})` };
    path = url.pathname;
  } else if (path.startsWith('//')) {
    return { skip: 'on another server' };
  } else if (!path.startsWith('/')) {
    return { skip: 'a relative address' };
  }
  if (/[?#]/.test(path)) return { skip: 'an address with a query or fragment' };
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      name = raw; // a bare `%` some servers leave unencoded: the name is what was sent
    }
    if (name === '.' || name === '..') return { skip: `a "${name}" segment` };
    if (name.includes('/')) return { skip: 'a name with a "/" in it, which VS Code cannot show' };
    if (CONTROL.test(name)) return { skip: 'a name with control characters' };
    segments.push(name);
  }
  const decoded = '/' + segments.join('/');
  const rel = relativeTo(decoded, basePath);
  if (rel === undefined) return { skip: 'outside the share' };
  return { path: rel };
}
