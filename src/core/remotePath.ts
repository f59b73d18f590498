// Paths inside a share: decoded POSIX strings, always absolute, never with a trailing slash (root is "/").
// Percent-encoding happens only at the HTTP edge (remote/), never here.

/** Already normalized: absolute, no empty, `.` or `..` segment, no trailing slash (the hot path). */
const NORMAL = /^(\/|(\/(?!\.\.?(\/|$))[^/]+)+)$/;

export function normalizePath(path: string): string {
  if (NORMAL.test(path)) return path;
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return '/' + out.join('/');
}

export function joinPath(parent: string, name: string): string {
  return normalizePath(`${parent}/${name}`);
}

export function dirname(path: string): string {
  const p = normalizePath(path);
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export function basename(path: string): string {
  const p = normalizePath(path);
  return p.slice(p.lastIndexOf('/') + 1);
}

/** True when `path` is `parent` itself or lies below it. */
export function isEqualOrParent(path: string, parent: string): boolean {
  const p = normalizePath(path);
  const q = normalizePath(parent);
  return p === q || q === '/' || p.startsWith(q + '/');
}

/** `path` relative to `parent` as an absolute share path, or undefined when it is not below it. */
export function relativeTo(path: string, parent: string): string | undefined {
  const p = normalizePath(path);
  const q = normalizePath(parent);
  if (q === '/') return p;
  if (p === q) return '/';
  return p.startsWith(q + '/') ? p.slice(q.length) : undefined;
}

/** Percent-encodes each segment (for URLs and Destination headers). */
export function encodePath(path: string): string {
  return normalizePath(path)
    .split('/')
    .map(s => encodeURIComponent(s))
    .join('/');
}

/** Decodes a URL path; segments that are not valid percent-encoding are kept as they are. */
export function decodePath(path: string): string {
  return path
    .split('/')
    .map(s => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join('/');
}
