// `node:assert/strict` for the web-worker bundle (Node's assert is not there): the functions the web
// tests and test/unit/shareStore.suite.ts use, with Node's strict semantics (Object.is, prototypes,
// own enumerable keys, typed arrays element by element).
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

function show(v: unknown): string {
  try {
    if (v instanceof Uint8Array) return `Uint8Array(${v.length}) [${Array.from(v.slice(0, 16)).join(',')}${v.length > 16 ? ',…' : ''}]`;
    const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x === undefined ? '<undefined>' : x));
    return s === undefined ? String(v) : s.length > 600 ? s.slice(0, 600) + '…' : s;
  } catch {
    return String(v);
  }
}

function fail(message: string | Error | undefined, fallback: string): never {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ? `${message}\n${fallback}` : fallback);
}

function isDeepStrictEqual(a: unknown, b: unknown, seen = new Map<object, object>()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof ArrayBuffer) return isDeepStrictEqual(new Uint8Array(a), new Uint8Array(b as ArrayBuffer), seen);
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof RegExp) return String(a) === String(b);
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    for (const [k, v] of a) if (!m.has(k) || !isDeepStrictEqual(v, m.get(k), seen)) return false;
    return true;
  }
  if (a instanceof Set) {
    const s = b as Set<unknown>;
    if (a.size !== s.size) return false;
    for (const v of a) if (!s.has(v)) return false;
    return true;
  }
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!isDeepStrictEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], seen)) return false;
  }
  return true;
}

export function ok(value: unknown, message?: string | Error): asserts value {
  if (!value) fail(message, `expected a truthy value, got ${show(value)}`);
}
export function equal<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T {
  if (!Object.is(actual, expected)) fail(message, `expected ${show(actual)} to be ${show(expected)}`);
}
export function notEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (Object.is(actual, expected)) fail(message, `expected ${show(actual)} not to be ${show(expected)}`);
}
export function deepEqual<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T {
  if (!isDeepStrictEqual(actual, expected)) fail(message, `expected (deep, strict)\n  ${show(actual)}\nto equal\n  ${show(expected)}`);
}
export function notDeepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (isDeepStrictEqual(actual, expected)) fail(message, `expected ${show(actual)} not to deep-equal it`);
}
export function match(actual: string, re: RegExp, message?: string | Error): void {
  if (!re.test(actual)) fail(message, `expected ${show(actual)} to match ${re}`);
}
export function fail_(message?: string): never {
  fail(message, 'failed');
}
export { fail_ as fail, deepEqual as deepStrictEqual, equal as strictEqual };

type Expected = RegExp | (new (...args: never[]) => unknown) | ((err: unknown) => boolean) | object;

function check(err: unknown, expected: Expected | string | undefined, message: string | undefined): void {
  if (expected === undefined || typeof expected === 'string') return;
  if (expected instanceof RegExp) {
    const text = err instanceof Error ? err.message : String(err);
    if (!expected.test(text) && !expected.test(String(err))) fail(message, `the error ${show(text)} does not match ${expected}`);
    return;
  }
  if (typeof expected === 'function') {
    if ((expected as { prototype?: unknown }).prototype !== undefined && err instanceof (expected as new () => unknown)) return;
    if (Error.isPrototypeOf(expected) || expected === Error) fail(message, `the error is not a ${(expected as { name: string }).name}: ${show(err)}`);
    if ((expected as (e: unknown) => boolean)(err) !== true) fail(message, `the validation function did not accept the error ${show(err)}`);
    return;
  }
  for (const [k, v] of Object.entries(expected)) {
    const got = (err as Record<string, unknown>)[k];
    if (v instanceof RegExp ? !v.test(String(got)) : !isDeepStrictEqual(got, v)) fail(message, `error.${k} is ${show(got)}, expected ${show(v)}`);
  }
}

export async function rejects(p: Promise<unknown> | (() => Promise<unknown>), expected?: Expected | string, message?: string): Promise<void> {
  if (typeof expected === 'string') [message, expected] = [expected, undefined];
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    check(err, expected, message);
    return;
  }
  fail(message, 'expected a rejection, but it resolved');
}

export function throws(fn: () => unknown, expected?: Expected | string, message?: string): void {
  if (typeof expected === 'string') [message, expected] = [expected, undefined];
  try {
    fn();
  } catch (err) {
    check(err, expected, message);
    return;
  }
  fail(message, 'expected an exception, but none was thrown');
}

export default ok;
