// Faults of a browser's IndexedDB, injected into fake-indexeddb (the IndexedDB of the Node test runs) at
// its object stores: every put and delete asks the plan, which may make that request fail with
// QuotaExceededError (as a browser does when the site's quota is exhausted: the request's error event,
// then the transaction aborts with that error), abort the transaction with QuotaExceededError once the
// request is done (a quota noticed at commit), or abort it without a reason (as a browser under storage
// pressure, or closing the page, may). It also wraps the factory, to close the connections it opened as
// a browser does when the user clears the site's data (the `close` event). Install in setup, uninstall in
// teardown: the prototype and the factory are global.
import 'fake-indexeddb/auto';
import { forceCloseDatabase } from 'fake-indexeddb';

export type IdbFault = 'request-quota' | 'abort-quota' | 'abort';

export interface IdbCall {
  readonly op: 'put' | 'delete';
  /** The object store: `entries` (the index) or `blobs`. */
  readonly store: string;
  /** The number of this request, counted from 1 since install. */
  readonly n: number;
}

export type IdbFaultPlan = (call: IdbCall) => IdbFault | undefined;

interface FakeRequestSlot {
  operation: () => unknown;
  request: unknown;
}

interface FakeTransaction extends IDBTransaction {
  _requests: FakeRequestSlot[];
  _abort(errName: string | null): void;
}

export interface IdbFaults {
  plan: IdbFaultPlan | undefined;
  readonly injected: string[];
  /** Closes every connection opened since install, as the browser does when the site's data is cleared. */
  forceCloseConnections(): number;
  uninstall(): void;
}

export function installIdbFaults(): IdbFaults {
  const proto = IDBObjectStore.prototype;
  const originals = { put: proto.put, delete: proto.delete };
  const factory = indexedDB;
  const hadOwnOpen = Object.prototype.hasOwnProperty.call(factory, 'open');
  const originalOpen = factory.open;
  const connections = new Set<IDBDatabase>();
  factory.open = function (this: IDBFactory, ...args: Parameters<IDBFactory['open']>) {
    const request = originalOpen.apply(this, args);
    request.addEventListener('success', () => {
      const db = request.result;
      connections.add(db);
      db.addEventListener('close', () => connections.delete(db));
    });
    return request;
  };
  let n = 0;
  const faults: IdbFaults = {
    plan: undefined,
    injected: [],
    forceCloseConnections() {
      const open = [...connections];
      connections.clear();
      for (const db of open) forceCloseDatabase(db as never);
      return open.length;
    },
    uninstall() {
      proto.put = originals.put;
      proto.delete = originals.delete;
      if (hadOwnOpen) factory.open = originalOpen;
      else delete (factory as { open?: unknown }).open;
    },
  };
  const hook = (op: 'put' | 'delete', original: (...args: never[]) => IDBRequest) =>
    function (this: IDBObjectStore, ...args: never[]): IDBRequest {
      const request = original.apply(this, args);
      const fault = faults.plan?.({ op, store: this.name, n: ++n });
      if (!fault) return request;
      faults.injected.push(`${op} ${this.name} ${fault}`);
      const tx = this.transaction as FakeTransaction;
      if (fault === 'request-quota') {
        const slot = tx._requests.find(r => r.request === request);
        if (!slot) throw new Error('idbFaults: the request is not queued (fake-indexeddb changed its internals?)');
        slot.operation = () => {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        };
      } else {
        request.addEventListener('success', () => {
          if (fault === 'abort') tx.abort();
          else tx._abort('QuotaExceededError');
        });
      }
      return request;
    };
  proto.put = hook('put', originals.put as never);
  proto.delete = hook('delete', originals.delete as never);
  return faults;
}
