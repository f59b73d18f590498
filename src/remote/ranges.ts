// Resumed downloads and streamed bodies, checked like every other byte from a server. A download that
// was cut resumes with `Range: bytes=N-` and `If-Range: <validator>` (RFC 9110 §13.1.5, §14): the server
// answers 206 with the rest of the same version, or 200 with the whole file (it ignores ranges, or the
// version changed). A 206 is taken only for exactly the range asked for — its Content-Range starts at N
// and runs to the end, of the version named (its ETag or Last-Modified, when it sends one) — and its
// body must be exactly that long: a hostile or broken server cannot splice other bytes into a file.
// A body sent as a stream (a big file from the blob store) is held to the size announced in the same way.
import { ShareError } from '../core/errors';
import { cancelBody, type FetchResponse } from './httpExchange';
import type { Method } from './httpErrors';
import type { ResumeFrom } from './remoteFs';

/** `bytes first-last/total` (RFC 9110 §14.4); undefined when it is not that (a `*` total included). */
export function parseContentRange(value: string | null): { first: number; last: number; total: number } | undefined {
  const m = /^\s*bytes\s+(\d{1,15})-(\d{1,15})\/(\d{1,15})\s*$/i.exec(value ?? '');
  if (!m) return undefined;
  const [first, last, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return first <= last && last < total ? { first, last, total } : undefined;
}

/**
 * The range of a 206 answer, if it is exactly what `resume` asked for; otherwise the answer is refused
 * (its body cancelled): a 206 nobody asked for, another start, a range that stops before the end, a
 * file larger than `max`, another version than the one named in If-Range.
 */
export function checkedRange(
  res: FetchResponse,
  method: Method,
  path: string,
  resume: ResumeFrom | undefined,
  etag: string | undefined,
  lastModified: string | undefined,
  max: number,
): { from: number; total: number } {
  const header = res.headers.get('content-range');
  const range = parseContentRange(header);
  const refuse = (why: string): never => {
    cancelBody(res);
    throw new ShareError('Rejected', `${method} ${path}: the server answered the resumed download with ${why}; the answer is not trusted. The file will be downloaded whole next time.`, { status: 206 });
  };
  if (!resume) return refuse('a part of the file nobody asked for (206)');
  if (!range) return refuse(`a Content-Range that cannot be read (${JSON.stringify(header)})`);
  if (range.first !== resume.from || range.last !== range.total - 1) {
    return refuse(`bytes ${range.first}-${range.last} of ${range.total} instead of the bytes from ${resume.from} to the end`);
  }
  const named = resume.ifRange;
  const opaque = etag?.replace(/^W\//, '');
  if (named.startsWith('"') ? opaque !== undefined && opaque !== named : lastModified !== undefined && Date.parse(lastModified) !== Date.parse(named)) {
    return refuse(`another version (${etag ?? lastModified}) than the one asked for (${named})`);
  }
  if (range.total > max) {
    return refuse(`a file of ${range.total} bytes, above the limit of ${Math.round(max / (1024 * 1024))} MB (the webdavOffline.limits settings)`);
  }
  return { from: range.first, total: range.total };
}

/**
 * The chunks, refused as soon as they run past `size` bytes (hostile: more than announced) and failed
 * when they end before it (the connection was cut: a download resumes, an upload is sent again).
 */
export async function* exactly(chunks: AsyncIterable<Uint8Array>, size: number, method: Method, path: string): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (total > size) throw new ShareError('Rejected', `${method} ${path}: more than the ${size} bytes announced; not trusted.`);
    yield chunk;
  }
  if (total < size) {
    throw new ShareError('Unavailable', `${method} ${path}: the body ended after ${total} of ${size} bytes`, { reason: 'reset' });
  }
}

/** A streamed body gathered into one array, for a platform that cannot send a stream (the browser). */
export async function collect(chunks: AsyncIterable<Uint8Array>, size: number, method: Method, path: string): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let at = 0;
  for await (const chunk of exactly(chunks, size, method, path)) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
