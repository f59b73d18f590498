// Three-way merge of text with the cached base version (node-diff3): what none of the sync clients
// do. Only clean merges are used automatically; anything overlapping is left to the user.
import { diff3Merge } from 'node-diff3';

export type MergeResult = { readonly clean: true; readonly text: string } | { readonly clean: false; readonly reason: string };

/** Decodes UTF-8 text; undefined for content that is not text (NUL bytes, invalid UTF-8). */
export function asText(data: Uint8Array): string | undefined {
  if (data.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

function lines(text: string): string[] {
  return text.split(/(?<=\n)/); // keep each line's ending, so CRLF and a missing final newline survive
}

export function mergeText(base: string, server: string, local: string): MergeResult {
  if (server === local) return { clean: true, text: local };
  if (server === base) return { clean: true, text: local };
  if (local === base) return { clean: true, text: server };
  const regions = diff3Merge(lines(local), lines(base), lines(server), { excludeFalseConflicts: true });
  const out: string[] = [];
  for (const r of regions) {
    if (r.ok) out.push(...r.ok);
    else return { clean: false, reason: 'both sides changed the same lines' };
  }
  return { clean: true, text: out.join('') };
}

/** Merges byte contents when all three are text; otherwise says why not. */
export function mergeContent(base: Uint8Array, server: Uint8Array, local: Uint8Array): MergeResult {
  const [b, s, l] = [asText(base), asText(server), asText(local)];
  if (b === undefined || s === undefined || l === undefined) return { clean: false, reason: 'not text' };
  return mergeText(b, s, l);
}
