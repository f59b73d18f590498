// The settings as one share sees them: its saved options (webdavOffline.shares) over the general ones —
// freshness and parallel downloads — and live mode from the cache switch, the list of live shares, or
// the share's own `live` option.
import * as assert from 'node:assert/strict';
import { DEFAULTS, isLiveShare, settingsForShare, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';

const nas: ShareLocation = { scheme: 'davs', authority: 'nas.local:5006', basePath: '/home' };
const other: ShareLocation = { scheme: 'dav', authority: 'other', basePath: '/' };

suite('settings per share', () => {
  test("a saved share's freshness and parallel downloads apply to it alone", () => {
    const s: Settings = { ...DEFAULTS, shares: [{ address: 'https://nas.local:5006/home/', freshness: 60, parallelDownloads: 8 }] };
    const mine = settingsForShare(s, nas);
    assert.equal(mine.freshnessMs, 60_000);
    assert.equal(mine.parallelDownloads, 8);
    assert.equal(mine.requestTimeoutMs, DEFAULTS.requestTimeoutMs, 'the rest is the general settings');
    assert.equal(settingsForShare(s, other), s, 'another share gets the general settings as they are');
  });

  test('a saved share without these options gets the general settings unchanged', () => {
    const s: Settings = { ...DEFAULTS, shares: [{ address: 'davs://nas.local:5006/home', name: 'NAS' }] };
    assert.equal(settingsForShare(s, nas), s);
  });

  test('live mode: the cache switched off, the share listed as live, or saved with live', () => {
    assert.equal(isLiveShare(DEFAULTS, nas), false);
    assert.equal(isLiveShare({ ...DEFAULTS, cacheEnabled: false }, nas), true);
    assert.equal(isLiveShare({ ...DEFAULTS, liveShares: ['https://nas.local:5006/home'] }, nas), true);
    assert.equal(isLiveShare({ ...DEFAULTS, liveShares: ['not an address ::'] }, nas), false);
    assert.equal(isLiveShare({ ...DEFAULTS, shares: [{ address: 'https://nas.local:5006/home/', live: true }] }, nas), true);
    assert.equal(isLiveShare({ ...DEFAULTS, shares: [{ address: 'https://nas.local:5006/home/', live: true }] }, other), false);
  });
});
