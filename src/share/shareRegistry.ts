// The open shares, one per scheme + authority + base path. A `dav:` URI belongs to the share whose base
// is its longest prefix; a URI below no known base gets a share rooted at the server's `/`.
import { Emitter } from '../core/events';
import { relativeTo } from '../core/remotePath';
import { shareKey, splitAuthority, type ShareLocation, type ShareScheme } from '../core/shareLocation';
import type { Credentials } from '../remote/remoteFs';
import type { Share } from './share';

export interface ResolvedPath {
  readonly share: Share;
  /** The path inside the share. */
  readonly path: string;
}

export class ShareRegistry {
  private readonly bases = new Map<string, ShareLocation>();
  private readonly shares = new Map<string, Share>();
  private readonly _onDidAddShare = new Emitter<Share>();
  /** A share was opened (the first time one of its paths was used). */
  readonly onDidAddShare = this._onDidAddShare.event;

  /** Credentials already handed on from URIs (by share key + user name): once each. */
  private readonly handedOn = new Set<string>();

  constructor(
    private readonly createShare: (location: ShareLocation) => Share,
    /** A URI carried a user name and password (`dav://alice:pw@host/`): they go to sign-in, never into keys. */
    private readonly onCredentialsInUri: (share: Share, credentials: Credentials) => void = (share, c) => void share.signIn(c),
  ) {}

  /** Declares a share base (a workspace folder, or a folder being opened). */
  addBase(location: ShareLocation): void {
    this.bases.set(shareKey(location), location);
  }

  get(location: ShareLocation): Share {
    this.addBase(location);
    const key = shareKey(location);
    let share = this.shares.get(key);
    if (!share) {
      share = this.createShare(location);
      this.shares.set(key, share);
      this._onDidAddShare.fire(share);
    }
    return share;
  }

  resolve(scheme: ShareScheme, authority: string, path: string): ResolvedPath {
    const split = splitAuthority(authority);
    const auth = split.authority;
    let best: { location: ShareLocation; rel: string } | undefined;
    for (const location of this.bases.values()) {
      if (location.scheme !== scheme || location.authority !== auth) continue;
      const rel = relativeTo(path, location.basePath);
      if (rel !== undefined && (!best || location.basePath.length > best.location.basePath.length)) best = { location, rel };
    }
    if (!best) best = { location: { scheme, authority: auth, basePath: '/' }, rel: relativeTo(path, '/')! };
    const share = this.get(best.location);
    if (split.username !== undefined) {
      // VS Code addresses this share with user info: events must name the same URIs
      share.uriAuthority = authority;
      const once = `${share.key}\n${split.username}`;
      if (split.password !== undefined && !this.handedOn.has(once)) {
        this.handedOn.add(once);
        this.onCredentialsInUri(share, { username: split.username, password: split.password });
      }
    }
    return { share, path: best.rel };
  }

  all(): Share[] {
    return [...this.shares.values()];
  }

  async dispose(): Promise<void> {
    this._onDidAddShare.dispose();
    await Promise.all(this.all().map(s => s.dispose()));
    this.shares.clear();
  }
}
