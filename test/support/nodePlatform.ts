// The platform the Node extension host gives each share (src/extension.node.ts): its own transport —
// here without this machine's proxy environment, so a suite decides which proxy it goes through.
import type { ProxySettings } from '../../src/core/proxy';
import { createNodeTransport } from '../../src/platform/nodeTransport';
import { streamBody } from '../../src/platform/nodeFetch';
import type { HttpPlatform } from '../../src/remote/webdavRemote';

export const NODE_PLATFORM: HttpPlatform = { transport: o => createNodeTransport({ ...o, env: {} }), streamBody };

/** The Node transport with these proxy settings and environment instead of the share's. */
export function platformVia(proxy: ProxySettings, env: Record<string, string> = {}): HttpPlatform {
  return { transport: o => createNodeTransport({ ...o, proxy, env }), streamBody };
}
