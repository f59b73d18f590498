// The open shares, one per scheme + authority + base path. A `dav:` URI belongs to the share whose base
// is its longest prefix; a URI below no known base gets a share rooted at the server's `/`.
import { Emitter } from '../core/events';
import { relativeTo } from '../core/remotePath';
import { shareKey, type ShareLocation, type ShareScheme } from '../core/shareLocation';
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

  constructor(private readonly createShare: (location: ShareLocation) => Share) {}

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
    const auth = authority.toLowerCase();
    let best: { location: ShareLocation; rel: string } | undefined;
    for (const location of this.bases.values()) {
      if (location.scheme !== scheme || location.authority !== auth) continue;
      const rel = relativeTo(path, location.basePath);
      if (rel !== undefined && (!best || location.basePath.length > best.location.basePath.length)) best = { location, rel };
    }
    if (!best) best = { location: { scheme, authority: auth, basePath: '/' }, rel: relativeTo(path, '/')! };
    return { share: this.get(best.location), path: best.rel };
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
