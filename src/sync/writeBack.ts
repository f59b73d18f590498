// The write-back of one cached share, assembled: the offline changes (journal + recovery area), the
// conflicts, what the server honours, the conditional and proven online writes, the replay and the
// conflict resolution — each handed exactly the parts of the cache and of the journal it uses.
import type { OpenCache } from '../cache/openCache';
import type { Logger } from '../core/log';
import { ConflictList } from '../offline/conflicts';
import type { RemoteFs } from '../remote/remoteFs';
import { ConflictResolver } from './conflictResolver';
import { OfflineOps } from './offlineOps';
import { ProvenWrites } from './provenWrites';
import { Replayer, type ReplayHooks } from './replayer';
import { ServerCapabilities } from './serverCapabilities';

export class WriteBack {
  private constructor(
    /** Changes made here: recorded in the journal, applied to the cache; discards; the recovery area. */
    readonly offline: OfflineOps,
    readonly conflicts: ConflictList,
    readonly capabilities: ServerCapabilities,
    /** Online changes: conditional, and counted only when the server shows them. */
    readonly writes: ProvenWrites,
    readonly replayer: Replayer,
    readonly resolver: ConflictResolver,
  ) {}

  /**
   * `server` is the share's server; `observed` the same, with the connection told of each request's
   * outcome (online changes go through it, so a network failure switches the share offline).
   */
  static async open(cache: OpenCache, server: RemoteFs, observed: RemoteFs, hooks: ReplayHooks, log: Logger): Promise<WriteBack> {
    const offline = await OfflineOps.open(cache, log);
    const conflicts = await ConflictList.open(cache.records, log);
    cache.addBlobHolder(() => conflicts.blobs());
    const capabilities = new ServerCapabilities(observed, cache.values, log);
    const caps = () => capabilities.get();
    const replayer = new Replayer(server, cache.remote, cache.tree, cache.local, offline.journal, conflicts, capabilities, cache.settings, hooks, log);
    const resolver = new ConflictResolver(
      server,
      cache.remote,
      cache.local,
      offline.journal,
      offline.recovery,
      conflicts,
      new ProvenWrites(server, caps, log),
      log,
    );
    return new WriteBack(offline, conflicts, capabilities, new ProvenWrites(observed, caps, log, change => capabilities.learn(change)), replayer, resolver);
  }

  /** Whether `path` has an open conflict. */
  isConflicted(path: string): boolean {
    return this.conflicts.all.some(c => c.path === path);
  }
}
