// What the core needs from a server. Paths are share paths (decoded, absolute); see core/remotePath.ts.
// Every method throws a ShareError (classified by remote/httpErrors.ts), never a raw client error.

export type EntryType = 'file' | 'directory';

export interface RemoteEntry {
  readonly path: string;
  readonly type: EntryType;
  readonly size: number;
  /** Last modification, ms since the epoch (servers give 1 s resolution). */
  readonly mtime: number;
  /** Creation time, ms; the mtime when the server has none. */
  readonly ctime: number;
  /** The entity tag exactly as the server's validator means it: quoted, `W/` kept; undefined when none. */
  readonly etag?: string;
  readonly contentType?: string;
  /**
   * The server's stable id of the item, unchanged by renames and moves (Nextcloud/ownCloud `oc:fileid`,
   * RFC 5842 `DAV:resource-id`); undefined when the server gives none.
   */
  readonly fileId?: string;
  /** What the user may do with the item, when the server says (oc:permissions, RFC 3744 privileges). */
  readonly permissions?: Permissions;
  /** The storage quota where the server says it (on folders: RFC 4331 quota properties), bytes. */
  readonly quota?: { readonly available?: number; readonly used?: number };
}

/** What the user may do with an item. Absent: the server did not say, so everything is allowed. */
export interface Permissions {
  /** Change a file's content; for a folder: create items in it. */
  readonly write: boolean;
  readonly delete: boolean;
  /** Rename or move it. */
  readonly rename: boolean;
}

export interface RemoteListing {
  readonly self: RemoteEntry;
  readonly children: RemoteEntry[];
}

export interface RemoteContent {
  readonly data: Uint8Array;
  readonly etag?: string;
  readonly mtime?: number;
  /** The Content-Type of the answer. */
  readonly contentType?: string;
}

/** A GET whose body is read as it arrives (a download into the cache never holds the whole file). */
export interface RemoteStream {
  readonly etag?: string;
  readonly mtime?: number;
  /** The Last-Modified header as sent (a validator for `If-Range` where there is no strong etag). */
  readonly lastModified?: string;
  readonly contentType?: string;
  /**
   * Set when the server answered a resumed GET with the rest of the file (206): the body starts at
   * `from` of `total` bytes (checked against the Content-Range asked for). Absent: the whole file (200).
   */
  readonly range?: { readonly from: number; readonly total: number };
  /** The body, checked against Content-Length and the size limit while it is read; read it once. */
  readonly chunks: AsyncIterable<Uint8Array>;
}

/** Where a download that was cut resumes: `Range: bytes=from-` with `If-Range: validator`. */
export interface ResumeFrom {
  readonly from: number;
  /** The strong etag or the Last-Modified date of the version the kept bytes are of. */
  readonly ifRange: string;
}

/** A body sent as it is read (a big file from the blob store): its size and a fresh read of its bytes. */
export interface UploadBody {
  readonly size: number;
  /** A new read of the bytes from the start (a request sent again reads them again). */
  chunks(): AsyncIterable<Uint8Array>;
}

/** HTTP preconditions: an etag, or `*` (any current representation). */
export interface Preconditions {
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
}

/**
 * What the server said to a change. A 2xx answer is not proof that the change landed (a gateway may
 * answer 200 with a sign-in page, a broken server may drop a body): see offline/landing.ts.
 */
export interface WriteResult {
  /** The new validator when the server sent one with its answer (rclone, lighttpd, Nextcloud); else undefined. */
  readonly etag?: string;
  /** The answer was a web page with a 200, what a gateway's sign-in page looks like. */
  readonly html?: boolean;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
  /**
   * How the server wants them, learnt from its 401 (`WWW-Authenticate`) and kept with them, so a stored
   * password is never sent as Basic to a server that asked for Digest. Undefined: Basic until the
   * server says otherwise.
   */
  readonly scheme?: 'basic' | 'digest';
}

/**
 * What a share is given besides a user name and password (the VS Code adapter keeps it: secrets in
 * SecretStorage, trusted certificates in the extension's global state).
 */
export interface ShareAccess {
  /**
   * Request headers with secret values (a bearer token is `Authorization: Bearer …`), sent with every
   * request to the share's own server and nowhere else.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** SHA-256 fingerprints (`AB:CD:…`) of server certificates the user trusted for this share. */
  readonly trustedCertificates?: readonly string[];
  /** The passphrase of the share's client certificate (its key or PKCS#12 file). */
  readonly clientCertificatePassphrase?: string;
}

export interface RemoteFs {
  /** Retires what the remote holds open (an HTTP remote's idle connections); optional. */
  dispose?(): void;
  /** Credentials for the following requests (undefined: none). */
  setCredentials(credentials: Credentials | undefined): void;
  /** Secret headers, trusted certificates and the client certificate's passphrase (optional: HTTP remotes). */
  setAccess?(access: ShareAccess): void;
  /** The scheme the server asked for (optional: HTTP remotes); kept with the credentials it accepted. */
  readonly authScheme?: 'basic' | 'digest';
  stat(path: string): Promise<RemoteEntry>;
  /** PROPFIND Depth 1: the folder itself and its direct children. */
  list(path: string): Promise<RemoteListing>;
  /** GET; with `ifNoneMatch` a 304 answer yields `'not-modified'`. */
  get(path: string, options?: { ifNoneMatch?: string }): Promise<RemoteContent | 'not-modified'>;
  /**
   * GET as a stream (optional: where absent, downloads use get()); with `resume`, only the bytes after
   * those kept, if the server still has that version (`range` says whether it sent only those).
   */
  getStream?(path: string, options?: { resume?: ResumeFrom }): Promise<RemoteStream>;
  put(path: string, data: Uint8Array, preconditions?: Preconditions): Promise<WriteResult>;
  /** PUT with a body read as it is sent, never held whole (optional: where absent, put() with the bytes). */
  putStream?(path: string, body: UploadBody, preconditions?: Preconditions): Promise<WriteResult>;
  mkcol(path: string): Promise<WriteResult>;
  delete(path: string, preconditions?: Preconditions): Promise<WriteResult>;
  move(from: string, to: string, options: { overwrite: boolean }): Promise<WriteResult>;
  copy(from: string, to: string, options: { overwrite: boolean }): Promise<WriteResult>;
  /**
   * PROPFIND `Depth: infinity`: `path` and every entry below it (itself included), or 'too-large' when
   * there are more than `maxEntries` (optional: HTTP remotes; servers that refuse it fail).
   */
  listTree?(path: string, maxEntries: number): Promise<RemoteEntry[] | 'too-large'>;
  /** Whether PROPFIND with `Depth: infinity` is answered (optional: the raw server remote has it). */
  depthInfinity?(path: string): Promise<boolean>;
  /** LOCK (exclusive write lock); returns the lock token. */
  lock(path: string, options?: { timeoutSeconds?: number }): Promise<string>;
  unlock(path: string, token: string): Promise<void>;
}
