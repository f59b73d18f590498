// "Sign-in needed" in real VS Code: the Apache share reached through a sign-in gateway (a reverse proxy,
// test/support/signInGateway.ts) that, when told to, answers 200 text/html with a sign-in page instead of
// forwarding — for changes only ("writes") or for every request ("all"). A web page where WebDAV was
// expected is neither success nor "unreachable": the save is kept (the editor does not fail), the change
// stays pending, Apache's disk is untouched, the share is offline with cause `signin`, cached files still
// read; once the gateway lets requests through, "Go Online" lands the change. The share's connection
// events enter a sign-in streak once and stay "sign-in needed" while it retries by itself, and the
// "Sign In / Open in Browser / Retry Now" notice is shown once per streak.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ConnectionChange, ConnectionState } from '../../src/offline/connection';
import type { Share } from '../../src/share/share';
import type { GatewayMode, GatewayStatus } from '../support/serverSharesEnv';
import { eventually, text } from './harness';
import { resolve } from './serverControl';
import { gatewayShare, type GatewayShare } from './serverShares';

const INITIAL = '# Sign-in gateway\n\n- written on the server\n';
const MINE = '- my line, saved while the gateway wanted a sign-in\n';
const SIGN_IN_NOTICE_ITEMS = ['Sign In', 'Open in Browser', 'Retry Now'];

let counter = 0;
function freshFile(gw: GatewayShare, label: string): { rel: string; uri: vscode.Uri; disk: string; path: string; share: Share } {
  const rel = `signin-${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}.md`;
  gw.writeAsColleague(rel, INITIAL);
  const uri = gw.uri(rel);
  return { rel, uri, disk: gw.diskPath(rel), ...resolve(uri) };
}

const onDisk = (path: string) => readFileSync(path, 'utf8');
const describeState = (s: ConnectionState | undefined) => JSON.stringify(s);
const isSignIn = (s: ConnectionState | undefined) => s?.kind === 'offline' && !s.manual && s.cause === 'signin';

function assertSignInNeeded(share: Share, when: string): void {
  const s = share.connectionState;
  assert.ok(s?.kind === 'offline' && !s.manual, `${when}: the share should be offline (not by hand), it is ${describeState(s)}`);
  assert.equal(s.cause, 'signin', `${when}: offline because a sign-in is needed, not "${s.cause}" (${s.reason})`);
}

/** The content of the pending write of `path`, if there is one. */
async function pendingWrite(share: Share, path: string): Promise<string | undefined> {
  for (const item of await share.pendingChanges()) {
    if (item.op.kind === 'write' && item.op.path === path) {
      const data = await share.blob(item.op.blob);
      return data ? text(data) : '<blob missing>';
    }
  }
  return undefined;
}

const describePending = async (share: Share) =>
  (await share.pendingChanges()).map(i => `${i.op.kind} ${i.op.kind === 'move' || i.op.kind === 'copy' ? i.op.to : i.op.path}`).join(', ') || 'nothing';

/** Records the share's connection changes. */
function recordConnection(share: Share): { changes: ConnectionChange[]; describe(): string } & vscode.Disposable {
  const changes: ConnectionChange[] = [];
  const subscription = share.onDidChangeConnection(c => changes.push(c));
  const name = (s: ConnectionState) => (s.kind === 'offline' ? (s.manual ? 'offline(by hand)' : `offline(${s.cause})`) : s.kind);
  return {
    changes,
    describe: () => changes.map(c => `${name(c.previous)} → ${name(c.current)}`).join(', ') || 'no change',
    dispose: () => subscription.dispose(),
  };
}

/**
 * Waits until the share retried by itself once (reconnecting, then "sign-in needed" again) and the retry
 * is over; it must never count as online meanwhile (the gateway still holds the change back).
 */
async function ownRetry(share: Share, events: { changes: ConnectionChange[]; describe(): string }, what: string): Promise<void> {
  await eventually(() => {
    assert.ok(!events.changes.some(c => c.current.kind === 'online'), `${what}: the share counted as online while the gateway held the change back: ${events.describe()}`);
    assert.ok(events.changes.some(c => c.previous.kind === 'reconnecting' && isSignIn(c.current)), `${what}: a retry by itself: ${events.describe()}`);
  }, 10_000);
  await eventually(() => assert.notEqual(share.connectionState?.kind, 'reconnecting', `${what}: the retry is over`), 10_000, 20);
}

/**
 * One sign-in streak in `changes`: the share left "online" exactly once, straight into "sign-in needed";
 * every offline state after it (its own retries included) said sign-in, never "unreachable"; it came back
 * online exactly once, at the end. Resolves how many times it retried by itself.
 */
function assertOneSignInStreak(changes: readonly ConnectionChange[], describe: string, what: string): number {
  const left = changes.filter(c => c.previous.kind === 'online' && c.current.kind !== 'online');
  assert.equal(left.length, 1, `${what}: the share should leave "online" once per streak, it did ${left.length} times: ${describe}`);
  assert.ok(isSignIn(left[0].current), `${what}: it should go straight to "sign-in needed": ${describe}`);
  assert.ok(
    changes.filter(c => c.current.kind === 'offline').every(c => isSignIn(c.current)),
    `${what}: every offline state in the streak should say "sign-in needed": ${describe}`,
  );
  const online = changes.filter(c => c.current.kind === 'online' && c.previous.kind !== 'online');
  assert.equal(online.length, 1, `${what}: back online once: ${describe}`);
  assert.equal(changes.at(-1)?.current.kind, 'online', `${what}: online at the end: ${describe}`);
  return changes.filter(c => c.previous.kind === 'reconnecting' && isSignIn(c.current)).length;
}

/**
 * Watches the warning notices the extension shows (its `vscode` API object is the tests' one: the tests
 * run inside the extension under development); every call still reaches VS Code.
 */
function watchWarnings(): { shown: { message: string; items: string[] }[] } & vscode.Disposable {
  const shown: { message: string; items: string[] }[] = [];
  const window = vscode.window as { showWarningMessage: (...args: unknown[]) => Thenable<unknown> };
  const original = window.showWarningMessage;
  window.showWarningMessage = (...args: unknown[]) => {
    shown.push({ message: String(args[0]), items: args.slice(1).filter((a): a is string => typeof a === 'string') });
    return original.apply(vscode.window, args);
  };
  return { shown, dispose: () => (window.showWarningMessage = original) };
}

const signInNotices = (shown: readonly { message: string; items: string[] }[], share: Share) =>
  shown.filter(n => n.message.startsWith(share.key) && n.items.includes('Sign In'));

/** Requests the gateway answered with its sign-in page since `before`, by method. */
function pagesSince(before: GatewayStatus, now: GatewayStatus): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [m, n] of Object.entries(now.signInPages)) if (n - (before.signInPages[m] ?? 0) > 0) out[m] = n - (before.signInPages[m] ?? 0);
  return out;
}

/**
 * "Go Online" by the command, as the status bar does. A retry the share started by itself before the
 * gateway opened may still be under way; the command then joins it and reports its outcome, so it is
 * run once more in that case only.
 */
async function goOnlineByCommand(share: Share): Promise<void> {
  const joined = share.connectionState?.kind === 'reconnecting';
  let online = await vscode.commands.executeCommand<boolean>('webdavOffline.goOnline', share.key);
  if (!online && joined) online = await vscode.commands.executeCommand<boolean>('webdavOffline.goOnline', share.key);
  assert.equal(online, true, `"Go Online" should bring the share back once the gateway lets requests through: ${describeState(share.connectionState)}`);
  assert.equal(share.connectionState?.kind, 'online');
}

/** Edits the end of `doc` and saves it; resolves the text saved. */
async function appendAndSave(doc: vscode.TextDocument, line: string): Promise<string> {
  const edit = new vscode.WorkspaceEdit();
  edit.insert(doc.uri, doc.positionAt(doc.getText().length), line);
  assert.ok(await vscode.workspace.applyEdit(edit), 'the edit is applied');
  const mine = doc.getText();
  assert.equal(await doc.save(), true, `the save must not fail in the editor (document dirty: ${doc.isDirty})`);
  assert.equal(doc.isDirty, false, 'the document is saved (not dirty)');
  assert.equal(doc.getText(), mine, 'the editor keeps the user\'s text');
  return mine;
}

suite('integration: a sign-in gateway in front of Apache', function () {
  this.timeout(20_000);
  let gw: GatewayShare;
  let share: Share;
  const config = () => vscode.workspace.getConfiguration('webdavOffline');
  /** No freshness window: a stat right after a read asks the server (the extension reads the setting as it changes). */
  const everyStatAsksTheServer = async () => {
    await config().update('cache.freshness', 0, vscode.ConfigurationTarget.Global);
    await eventually(() => assert.equal(config().get('cache.freshness'), 0, 'the setting is seen in the extension host'), 5_000, 20);
  };

  suiteSetup(async function () {
    this.timeout(30_000);
    gw = gatewayShare();
    await gw.setMode('pass');
    share = resolve(gw.folder).share;
    // the server's abilities are probed once per share, with its first change; probed here through the
    // open gateway (a probe while the gateway holds changes back records wrong ones: see the report)
    const caps = await share.capabilities();
    assert.equal(caps.ifMatch, true, `Apache honours If-Match, probed through the gateway: ${JSON.stringify(caps)}`);
    assert.equal(share.connectionState?.kind, 'online', `online at the start: ${describeState(share.connectionState)}`);
  });

  teardown(async function () {
    this.timeout(30_000);
    await gw.setMode('pass');
    for (const editor of vscode.window.visibleTextEditors.filter(e => e.document.isDirty)) {
      await vscode.window.showTextDocument(editor.document);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await config().update('cache.freshness', undefined, vscode.ConfigurationTarget.Global);
    // back to normal for the next test: online, nothing pending
    await eventually(async () => {
      if (share.connectionState?.kind !== 'online') await share.goOnline();
      assert.equal(share.connectionState?.kind, 'online', 'the gateway share is online again');
      assert.equal(await describePending(share), 'nothing', 'nothing pending on the gateway share');
    }, 20_000, 250);
  });

  test('"writes": a save answered with the sign-in page is kept pending, Apache untouched, the share offline (signin); "Go Online" lands it', async () => {
    const f = freshFile(gw, 'writes');
    const doc = await vscode.workspace.openTextDocument(f.uri);
    assert.equal(doc.getText(), INITIAL, 'the document shows the server content');
    const events = recordConnection(share);
    try {
      const before = await gw.setMode('writes');
      const mine = await appendAndSave(doc, MINE);
      const pages = pagesSince(before, await gw.status());
      assert.deepEqual(Object.keys(pages), ['PUT'], `the gateway answered the save (PUT) with its sign-in page, nothing else: ${JSON.stringify(pages)}`);

      assert.equal(onDisk(f.disk), INITIAL, "Apache's disk must not change: the gateway did not forward the save");
      assert.equal(await pendingWrite(share, f.path), mine, `the change is pending with the user's bytes (pending: ${await describePending(share)})`);
      assertSignInNeeded(share, 'after the save');
      assert.equal(text(await vscode.workspace.fs.readFile(f.uri)), mine, "the user's version reads back through vscode.workspace.fs");

      // it retries by itself (reads pass the gateway, the change does not): still a sign-in, still pending
      await ownRetry(share, events, 'after the save');
      assertSignInNeeded(share, 'after a retry');
      assert.equal(onDisk(f.disk), INITIAL, "Apache's disk is still unchanged after the retry");
      assert.equal(await pendingWrite(share, f.path), mine, 'still pending after the retry');

      await gw.setMode('pass');
      await goOnlineByCommand(share);
      assert.equal(onDisk(f.disk), mine, "Apache's disk has the user's bytes");
      assert.equal(await describePending(share), 'nothing', 'nothing pending');
      assert.deepEqual(await share.conflicts(), [], 'no conflict');
      assertOneSignInStreak(events.changes, events.describe(), 'connection changes');
    } finally {
      events.dispose();
    }
  });

  test('"all": a stat meets the sign-in page: offline (signin); cached files still read, an edit + save stays pending; "Go Online" lands it', async () => {
    const f = freshFile(gw, 'all');
    assert.equal(text(await vscode.workspace.fs.readFile(f.uri)), INITIAL, 'read (and cached) through the open gateway');
    const listed = (await vscode.workspace.fs.readDirectory(gw.folder)).map(([n]) => n);
    assert.ok(listed.includes(f.rel), `the share's listing has ${f.rel}`);
    const events = recordConnection(share);
    try {
      await everyStatAsksTheServer();
      const before = await gw.setMode('all');
      const st = await vscode.workspace.fs.stat(f.uri);
      assert.equal(st.type, vscode.FileType.File, 'the stat is answered from the cache');
      // the check behind the stat (in the background) meets the page
      await eventually(async () => assert.ok((pagesSince(before, await gw.status()).PROPFIND ?? 0) >= 1, 'the gateway answered the check (PROPFIND) with its sign-in page'), 10_000, 20);
      await eventually(() => assertSignInNeeded(share, 'after the stat'), 10_000, 20);

      const names = (await vscode.workspace.fs.readDirectory(gw.folder)).map(([n]) => n);
      assert.ok(names.includes(f.rel), `the cached listing still has ${f.rel}`);
      assert.equal(text(await vscode.workspace.fs.readFile(f.uri)), INITIAL, 'the cached file reads through vscode.workspace.fs');

      const doc = await vscode.workspace.openTextDocument(f.uri);
      assert.equal(doc.getText(), INITIAL, 'the document opens from the cache');
      const mine = await appendAndSave(doc, MINE);
      assert.equal(onDisk(f.disk), INITIAL, "Apache's disk must not change");
      assert.equal(await pendingWrite(share, f.path), mine, `the change is pending (pending: ${await describePending(share)})`);
      assertSignInNeeded(share, 'after the save');
      const during = await gw.status();
      assert.equal(during.forwarded, before.forwarded, 'nothing reached Apache while the gateway wanted a sign-in');

      await gw.setMode('pass');
      await goOnlineByCommand(share);
      assert.equal(onDisk(f.disk), mine, "Apache's disk has the user's bytes");
      assert.equal(await describePending(share), 'nothing', 'nothing pending');
      assertOneSignInStreak(events.changes, events.describe(), 'connection changes');
    } finally {
      events.dispose();
    }
  });

  test('two sign-in streaks: each entered once and announced once (Sign In / Open in Browser / Retry Now), though the share retries by itself', async () => {
    const f = freshFile(gw, 'streaks');
    assert.equal(text(await vscode.workspace.fs.readFile(f.uri)), INITIAL);
    const doc = await vscode.workspace.openTextDocument(f.uri);
    const warnings = watchWarnings();
    const streak = async (mode: GatewayMode, meet: () => Thenable<unknown>, what: string): Promise<void> => {
      const events = recordConnection(share);
      try {
        await gw.setMode(mode);
        await meet();
        await eventually(() => assertSignInNeeded(share, what), 10_000, 20); // a stat's check runs behind it
        // let it retry by itself at least once: a retry is no new streak and no new notice
        await ownRetry(share, events, what);
        await gw.setMode('pass');
        await goOnlineByCommand(share);
        assert.ok(assertOneSignInStreak(events.changes, events.describe(), what) >= 1, `${what}: retried by itself`);
      } finally {
        events.dispose();
      }
    };
    try {
      await everyStatAsksTheServer();
      await streak('all', () => vscode.workspace.fs.stat(f.uri), 'streak 1 ("all", a stat)');
      const first = signInNotices(warnings.shown, share);
      assert.equal(first.length, 1, `one sign-in notice for the first streak: ${JSON.stringify(warnings.shown)}`);
      assert.deepEqual(first[0].items, SIGN_IN_NOTICE_ITEMS, 'the notice offers Sign In, Open in Browser, Retry Now');
      assert.match(first[0].message, /sign-in/, 'the notice says a sign-in is needed');

      let mine = '';
      await streak('writes', async () => (mine = await appendAndSave(doc, MINE)), 'streak 2 ("writes", a save)');
      assert.equal(onDisk(f.disk), mine, 'the save landed at the end of the second streak');
      assert.equal(signInNotices(warnings.shown, share).length, 2, `one more notice for the second streak: ${JSON.stringify(warnings.shown)}`);
      const unreachable = warnings.shown.filter(n => n.message.startsWith(share.key) && /unreachable|is offline:/.test(n.message));
      assert.deepEqual(unreachable, [], 'never announced as unreachable');
    } finally {
      warnings.dispose();
    }
  });
});
