// Tells the share's connection how each request to the server went, so network failures switch it
// offline by themselves (wherever the request came from: an operation, a revalidation, a poll).
import type { Connection } from '../offline/connection';
import type { Credentials, Preconditions, RemoteEntry, RemoteFs, RemoteStream, ResumeFrom, UploadBody, WriteResult } from '../remote/remoteFs';

export class ObservedRemote implements RemoteFs {
  constructor(
    private readonly inner: RemoteFs,
    private readonly connection: Connection,
  ) {
    const tree = inner.listTree?.bind(inner);
    if (tree) this.listTree = (path, maxEntries) => this.observe(tree(path, maxEntries));
    const streaming = inner.getStream?.bind(inner);
    if (streaming) {
      this.getStream = async (path, options) => {
        const stream = await this.observe(streaming(path, options));
        async function* observed() {
          try {
            yield* stream.chunks;
          } catch (err) {
            connection.reportFailure(err);
            throw err;
          }
        }
        return { ...stream, chunks: observed() };
      };
    }
    const uploading = inner.putStream?.bind(inner);
    if (uploading) this.putStream = (path, body, preconditions) => this.observe(uploading(path, body, preconditions));
  }

  private async observe<T>(request: Promise<T>): Promise<T> {
    try {
      const result = await request;
      this.connection.reportSuccess();
      return result;
    } catch (err) {
      this.connection.reportFailure(err);
      throw err;
    }
  }

  setCredentials(credentials: Credentials | undefined): void {
    this.inner.setCredentials(credentials);
  }
  stat(path: string) {
    return this.observe(this.inner.stat(path));
  }
  list(path: string) {
    return this.observe(this.inner.list(path));
  }
  get(path: string, options?: { ifNoneMatch?: string }) {
    return this.observe(this.inner.get(path, options));
  }
  /** Where the inner remote streams: a failure while the body arrives is reported too. */
  readonly getStream?: (path: string, options?: { resume?: ResumeFrom }) => Promise<RemoteStream>;
  /** Where the inner remote sends bodies as streams. */
  readonly putStream?: (path: string, body: UploadBody, preconditions?: Preconditions) => Promise<WriteResult>;
  put(path: string, data: Uint8Array, preconditions?: Preconditions) {
    return this.observe(this.inner.put(path, data, preconditions));
  }
  mkcol(path: string) {
    return this.observe(this.inner.mkcol(path));
  }
  delete(path: string, preconditions?: Preconditions) {
    return this.observe(this.inner.delete(path, preconditions));
  }
  move(from: string, to: string, options: { overwrite: boolean }) {
    return this.observe(this.inner.move(from, to, options));
  }
  copy(from: string, to: string, options: { overwrite: boolean }) {
    return this.observe(this.inner.copy(from, to, options));
  }
  /** Where the inner remote lists whole trees (HTTP remotes). */
  readonly listTree?: (path: string, maxEntries: number) => Promise<RemoteEntry[] | 'too-large'>;
  depthInfinity(path: string) {
    return this.inner.depthInfinity ? this.observe(this.inner.depthInfinity(path)) : Promise.resolve(false);
  }
  lock(path: string, options?: { timeoutSeconds?: number }) {
    return this.observe(this.inner.lock(path, options));
  }
  unlock(path: string, token: string) {
    return this.observe(this.inner.unlock(path, token));
  }
}
