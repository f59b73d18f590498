// The bit of Node's Buffer that test/unit/shareStore.suite.ts uses (Buffer.from(…).equals), injected
// into the web-worker bundle by esbuild for the free identifier `Buffer`.
type WebBuffer = Uint8Array & { equals(other: Uint8Array): boolean };

function withEquals(u: Uint8Array): WebBuffer {
  return Object.assign(u, {
    equals(other: Uint8Array): boolean {
      if (other.length !== u.length) return false;
      for (let i = 0; i < u.length; i++) if (u[i] !== other[i]) return false;
      return true;
    },
  });
}

export const Buffer = {
  from(source: ArrayBuffer | ArrayLike<number> | string, byteOffset?: number, length?: number): WebBuffer {
    if (typeof source === 'string') return withEquals(new TextEncoder().encode(source));
    if (source instanceof ArrayBuffer) return withEquals(new Uint8Array(source, byteOffset ?? 0, length ?? source.byteLength - (byteOffset ?? 0)));
    return withEquals(Uint8Array.from(source));
  },
};
