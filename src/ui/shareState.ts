// One name for the state of an open share, as the WebDAV view, its menus (context values) and the
// context keys show it: online, offline by hand, unreachable, sign-in needed, syncing (a reconnect
// replaying), changes not stored, a failed reconnect, or live (no cache, so always "online").
import * as vscode from 'vscode';
import type { Share } from '../share/share';

export type ShareStateName = 'online' | 'offline' | 'unreachable' | 'signin' | 'syncing' | 'unstored' | 'failed' | 'live';

export function shareStateOf(share: Share): ShareStateName {
  const s = share.connectionState;
  if (!s) return share.needsSignIn ? 'signin' : 'live';
  switch (s.kind) {
    case 'online':
      return share.needsSignIn ? 'signin' : 'online';
    case 'reconnecting':
      return 'syncing';
    case 'offline':
      if (s.manual) return 'offline';
      if (s.cause === 'signin') return 'signin';
      if (s.cause === 'unstored') return 'unstored';
      if (s.cause === 'other') return 'failed';
      return 'unreachable';
  }
}

/** Whether the share can be switched to offline (online, with a cache). */
export function canGoOffline(state: ShareStateName): boolean {
  return state === 'online' || state === 'signin';
}

/** Whether "Go Online" means something (offline by hand or by itself). */
export function canGoOnline(state: ShareStateName): boolean {
  return state === 'offline' || state === 'unreachable' || state === 'unstored' || state === 'failed' || state === 'signin';
}

export function describeState(state: ShareStateName): string {
  switch (state) {
    case 'online':
      return vscode.l10n.t('online');
    case 'offline':
      return vscode.l10n.t('offline (by hand)');
    case 'unreachable':
      return vscode.l10n.t('offline: unreachable');
    case 'signin':
      return vscode.l10n.t('sign-in needed');
    case 'syncing':
      return vscode.l10n.t('syncing');
    case 'unstored':
      return vscode.l10n.t('changes not stored');
    case 'failed':
      return vscode.l10n.t('offline: reconnect failed');
    case 'live':
      return vscode.l10n.t('live (no cache)');
  }
}

export function stateIcon(state: ShareStateName): vscode.ThemeIcon {
  const warning = new vscode.ThemeColor('list.warningForeground');
  switch (state) {
    case 'online':
      return new vscode.ThemeIcon('cloud');
    case 'offline':
      return new vscode.ThemeIcon('debug-disconnect');
    case 'unreachable':
    case 'unstored':
    case 'failed':
      return new vscode.ThemeIcon('warning', warning);
    case 'signin':
      return new vscode.ThemeIcon('key', warning);
    case 'syncing':
      return new vscode.ThemeIcon('sync~spin');
    case 'live':
      return new vscode.ThemeIcon('globe');
  }
}
