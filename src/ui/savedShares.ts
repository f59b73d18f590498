// The shares this computer knows besides the open ones: saved shares (the setting
// `webdavOffline.shares`, user settings only — never a secret), recently opened ones, and which cache
// (a hash of the address) belongs to which share. Recent shares and the cache index live in the
// extension's global state: nothing of them is synced, and an address is no secret (passwords stay in
// SecretStorage). Saving rewrites the setting with the entries as they were, unknown fields included,
// so a hand-edited settings.json loses nothing.
import * as vscode from 'vscode';
import { findShareOptions, type ShareOptions } from '../core/settings';
import { httpBaseUrl, parseShareUrl, redactAddress, shareKey, type ShareLocation } from '../core/shareLocation';
import { SECTION, type SettingsReader } from './settingsReader';

const RECENT_KEY = 'webdavOffline.recentShares';
const CACHES_KEY = 'webdavOffline.cacheIndex';
const OFFER_KEY = 'webdavOffline.offerToSave';
/** Most recent shares remembered. */
const MAX_RECENT = 10;

export interface RecentShare {
  /** The share key (`dav://host:port/base/`). */
  readonly key: string;
  /** When it was last opened, ms since the epoch. */
  readonly opened: number;
}

/** Which share a cache belongs to (caches are named by a hash of the address). */
export interface CacheOwner {
  readonly key: string;
  readonly lastUsed: number;
}

/** The address a share is saved under: the http(s) form people type. */
export function addressOf(location: ShareLocation): string {
  return `${httpBaseUrl(location)}/`;
}

/** The key of a saved entry, or undefined when its address is not one (a hand-edited setting). */
export function keyOfAddress(address: string): string | undefined {
  try {
    return shareKey(parseShareUrl(address).location);
  } catch {
    return undefined;
  }
}

export class SavedShares implements vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  /** The saved or recent shares, or the cache index, changed. */
  readonly onDidChange = this._onDidChange.event;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly settings: SettingsReader,
    private readonly state: vscode.Memento,
  ) {
    this.subscription = settings.onDidChange(() => this._onDidChange.fire());
  }

  /** The saved shares with a well-formed address, in the order of the setting. */
  get saved(): readonly ShareOptions[] {
    return this.settings.settings.shares.filter(o => keyOfAddress(o.address) !== undefined);
  }

  /** The saved entry of a share, by key. */
  savedFor(key: string): ShareOptions | undefined {
    try {
      return findShareOptions(this.settings.settings.shares, parseShareUrl(key).location);
    } catch {
      return undefined;
    }
  }

  /** Recently opened shares, the latest first. */
  recent(): readonly RecentShare[] {
    const value = this.state.get<unknown>(RECENT_KEY, []);
    return Array.isArray(value) ? value.filter((r): r is RecentShare => typeof r?.key === 'string' && typeof r?.opened === 'number') : [];
  }

  /** Remembers that a share was opened now (the first of the recent list). */
  async noteOpened(location: ShareLocation): Promise<void> {
    const key = shareKey(location);
    const list = [{ key, opened: Date.now() }, ...this.recent().filter(r => r.key !== key)].slice(0, MAX_RECENT);
    await this.state.update(RECENT_KEY, list);
    this._onDidChange.fire();
  }

  /** Which share each cache belongs to, by cache id. */
  cacheOwners(): Readonly<Record<string, CacheOwner>> {
    const value = this.state.get<unknown>(CACHES_KEY, {});
    return value && typeof value === 'object' ? (value as Record<string, CacheOwner>) : {};
  }

  /** The id of a share's cache, if it has one here. */
  cacheIdOf(key: string): string | undefined {
    return Object.entries(this.cacheOwners()).find(([, o]) => o.key === key)?.[0];
  }

  async noteCache(id: string, location: ShareLocation): Promise<void> {
    await this.state.update(CACHES_KEY, { ...this.cacheOwners(), [id]: { key: shareKey(location), lastUsed: Date.now() } });
  }

  async forgetCache(id: string): Promise<void> {
    const owners = { ...this.cacheOwners() };
    delete owners[id];
    await this.state.update(CACHES_KEY, owners);
    this._onDidChange.fire();
  }

  /** Saves a share (replacing a saved entry of the same share, keeping its other fields). */
  async save(entry: ShareOptions): Promise<void> {
    const key = keyOfAddress(entry.address);
    if (!key) throw new Error(vscode.l10n.t('"{0}" is not a WebDAV address.', redactAddress(entry.address)));
    const raw = this.rawEntries();
    const at = raw.findIndex(r => keyOfAddress(String(r.address ?? '')) === key);
    const clean = Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined));
    if (at >= 0) raw[at] = { ...raw[at], ...clean };
    else raw.push(clean);
    await this.write(raw);
  }

  /** Changes fields of a saved share; a field set to undefined is removed. */
  async update(key: string, change: Partial<ShareOptions>): Promise<void> {
    const raw = this.rawEntries();
    const at = raw.findIndex(r => keyOfAddress(String(r.address ?? '')) === key);
    if (at < 0) throw new Error(vscode.l10n.t('{0} is not a saved share.', key));
    const next: Record<string, unknown> = { ...raw[at], ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete next[k];
    raw[at] = next;
    await this.write(raw);
  }

  /** Removes a share from the saved and the recent shares. */
  async remove(key: string): Promise<void> {
    const raw = this.rawEntries();
    const kept = raw.filter(r => keyOfAddress(String(r.address ?? '')) !== key);
    if (kept.length !== raw.length) await this.write(kept);
    await this.state.update(
      RECENT_KEY,
      this.recent().filter(r => r.key !== key),
    );
    await this.state.update(
      OFFER_KEY,
      this.offers().filter(k => k !== key),
    );
    this._onDidChange.fire();
  }

  // --- "save this share?" after Open Folder… (asked in the window that shows the folder)

  private offers(): string[] {
    const value = this.state.get<unknown>(OFFER_KEY, []);
    return Array.isArray(value) ? value.filter((k): k is string => typeof k === 'string') : [];
  }

  /** Open Folder… connected to a share that is not saved: the window that opens it offers to save it. */
  async offerLater(key: string): Promise<void> {
    if (this.savedFor(key)) return;
    await this.state.update(OFFER_KEY, [...new Set([...this.offers(), key])]);
  }

  /** Takes the offer for `key` (true when there was one): it is made once. */
  async takeOffer(key: string): Promise<boolean> {
    const offers = this.offers();
    if (!offers.includes(key)) return false;
    await this.state.update(
      OFFER_KEY,
      offers.filter(k => k !== key),
    );
    return !this.savedFor(key);
  }

  /** The entries of the user setting as written, copied (fields this version does not know are kept). */
  private rawEntries(): Record<string, unknown>[] {
    const value = vscode.workspace.getConfiguration(SECTION).inspect<unknown>('shares')?.globalValue;
    return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null).map(v => ({ ...v })) : [];
  }

  private async write(entries: Record<string, unknown>[]): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION).update('shares', entries.length ? entries : undefined, vscode.ConfigurationTarget.Global);
    this._onDidChange.fire();
  }

  dispose(): void {
    this.subscription.dispose();
    this._onDidChange.dispose();
  }
}
