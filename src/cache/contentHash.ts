// Content addresses of cached blobs: SHA-256 in lowercase hex, through Web Crypto so the same code runs
// in the Node extension host (Node 20 has globalThis.crypto) and in the browser's web worker.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export async function sha256Hex(data: Uint8Array): Promise<string> {
  // The cast only narrows TypeScript's ArrayBufferLike: cached content never lives in a SharedArrayBuffer.
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const byte of digest) hex += HEX[byte];
  return hex;
}

/** True for what sha256Hex returns: 64 lowercase hex digits (also what keeps a hash safe as a file name). */
export function isSha256Hex(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}
