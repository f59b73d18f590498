// A file system for the disk share store (DiskStoreOptions.fs) that fails chosen calls the way a full or
// read-only disk fails them, for the fault tests that cannot use a real one (a machine where mounting a
// small tmpfs is not permitted, or a read-only switch while the store holds its log open, which Linux
// refuses). Every call that changes the disk asks the plan; a fault of ENOSPC or EDQUOT first stores part of
// the data, as a disk that fills up in the middle of a write does (the next write on that handle fails),
// EROFS and the rest change nothing. Reads are never failed.
import { open as openReal } from 'node:fs/promises';
import * as nodeFs from 'node:fs/promises';
import type { DiskFs } from '../../src/platform/diskShareStore';

export type FsCallKind = 'open' | 'write' | 'writeFile' | 'datasync' | 'sync' | 'truncate' | 'rename' | 'mkdir' | 'rm';

export interface FsCall {
  readonly kind: FsCallKind;
  readonly path: string;
  /** The number of this changing call, counted from 1 since the wrapper was made. */
  readonly n: number;
  /** For a write: how many bytes it would store. */
  readonly bytes?: number;
}

/** Decides whether a changing call fails: the errno code to fail it with, or undefined. */
export type FaultPlan = (call: FsCall) => string | undefined;

const ERRNO: Record<string, number> = { ENOSPC: -28, EDQUOT: -122, EROFS: -30, EACCES: -13, EPERM: -1, EIO: -5 };

export function injectedError(code: string, call: Pick<FsCall, 'kind' | 'path'>): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${call.kind} '${call.path}'`);
  err.code = code;
  err.errno = ERRNO[code] ?? -5;
  err.syscall = call.kind;
  err.path = call.path;
  return err;
}

/** Codes whose failure stores part of the data first. */
const PARTIAL = new Set(['ENOSPC', 'EDQUOT']);

export class FaultyFs {
  /** The current plan; undefined: nothing fails. */
  plan: FaultPlan | undefined;
  /** Changing calls seen, and faults injected. */
  calls = 0;
  faults = 0;
  /** Every injected fault, `kind code`, for messages. */
  readonly injected: string[] = [];
  readonly fs: DiskFs;

  constructor(private readonly random: () => number = Math.random) {
    const self = this;
    const wrapped = {
      ...nodeFs,
      async open(path: Parameters<typeof nodeFs.open>[0], flags?: string | number, mode?: number) {
        if (flags !== undefined && flags !== 'r') self.fail('open', String(path));
        return self.wrapHandle(await openReal(path, flags, mode), String(path));
      },
      async writeFile(file: Parameters<typeof nodeFs.writeFile>[0], data: string | Uint8Array, options?: { flag?: string } | BufferEncoding) {
        const code = self.decide('writeFile', String(file), typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
        if (code) {
          // created, but the data did not fit
          if (PARTIAL.has(code) && typeof options === 'object' && options.flag === 'wx') await nodeFs.writeFile(file, '', { flag: 'wx' });
          throw injectedError(code, { kind: 'writeFile', path: String(file) });
        }
        return nodeFs.writeFile(file, data, options);
      },
      async rename(from: string, to: string) {
        self.fail('rename', to);
        return nodeFs.rename(from, to);
      },
      async mkdir(path: string, options?: { recursive?: boolean }) {
        self.fail('mkdir', path);
        return nodeFs.mkdir(path, options);
      },
      async rm(path: string, options?: { recursive?: boolean; force?: boolean }) {
        self.fail('rm', path);
        return nodeFs.rm(path, options);
      },
    };
    this.fs = wrapped as unknown as DiskFs;
  }

  /** Fails every changing call with `code` until heal(). */
  failAll(code: string, only?: (call: FsCall) => boolean): void {
    this.plan = call => (!only || only(call) ? code : undefined);
  }

  /** Fails the `k`-th changing call from now (1: the next one) with `code`, once. */
  failNth(k: number, code: string, only?: (call: FsCall) => boolean): void {
    let seen = 0;
    this.plan = call => {
      if (only && !only(call)) return undefined;
      return ++seen === k ? code : undefined;
    };
  }

  heal(): void {
    this.plan = undefined;
  }

  private decide(kind: FsCallKind, path: string, bytes?: number): string | undefined {
    const code = this.plan?.({ kind, path, n: ++this.calls, ...(bytes === undefined ? {} : { bytes }) });
    if (code) {
      this.faults++;
      this.injected.push(`${kind} ${code}`);
    }
    return code;
  }

  private fail(kind: FsCallKind, path: string): void {
    const code = this.decide(kind, path);
    if (code) throw injectedError(code, { kind, path });
  }

  private wrapHandle(fh: nodeFs.FileHandle, path: string): nodeFs.FileHandle {
    const self = this;
    let failNextWrite: string | undefined; // a disk that filled up in the middle of a write stays full
    const overrides: Partial<Record<keyof nodeFs.FileHandle, unknown>> = {
      async write(buffer: Uint8Array, offset = 0, length?: number, position?: number | null) {
        const len = length ?? buffer.byteLength - offset;
        const code = failNextWrite ?? self.decide('write', path, len);
        failNextWrite = undefined;
        if (code) {
          if (PARTIAL.has(code) && len > 1) {
            // part of it is stored, the rest fails with the next write
            const part = 1 + Math.floor(self.random() * (len - 1));
            failNextWrite = code;
            return fh.write(buffer, offset, part, position);
          }
          throw injectedError(code, { kind: 'write', path });
        }
        return fh.write(buffer, offset, length, position);
      },
      async writeFile(data: string | Uint8Array, options?: BufferEncoding) {
        const bytes = typeof data === 'string' ? Buffer.from(data, options ?? 'utf8') : data;
        const code = self.decide('writeFile', path, bytes.byteLength);
        if (code) {
          if (PARTIAL.has(code) && bytes.byteLength > 1) await fh.write(bytes, 0, 1 + Math.floor(self.random() * (bytes.byteLength - 1)));
          throw injectedError(code, { kind: 'writeFile', path });
        }
        return fh.writeFile(bytes);
      },
      async datasync() {
        self.fail('datasync', path);
        return fh.datasync();
      },
      async sync() {
        self.fail('sync', path);
        return fh.sync();
      },
      async truncate(len?: number) {
        self.fail('truncate', path);
        return fh.truncate(len);
      },
    };
    return new Proxy(fh, {
      get(target, prop, receiver) {
        if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof nodeFs.FileHandle];
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
}
