/**
 * JSON as servers really send it, for the tools that read bodies they did not write (`record`,
 * `verify`): a byte-order mark before it (CVM's PHP), an anti-XSSI prefix before it (`)]}'`,
 * `while(1);`), and nesting deep enough to overflow the stack of any recursive walk.
 *
 * Written here rather than taken from a library: each function is a few lines, and the JSON
 * libraries on npm parse, which is what these run before.
 */

/** Prefixes some servers put before JSON so that a `<script>` tag cannot run it (Angular, Google, Facebook). */
const XSSI_PREFIX = /^(?:\)\]\}'|\)\]\}|while\s*\(\s*1\s*\)\s*;|for\s*\(\s*;\s*;\s*\)\s*;)\s*,?/;

/** The text without a leading byte-order mark or anti-XSSI prefix (nothing else is touched). */
export function stripJsonPrefix(text: string): string {
  const withoutBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const prefix = XSSI_PREFIX.exec(withoutBom.trimStart());
  return prefix ? withoutBom.trimStart().slice(prefix[0].length) : withoutBom;
}

/** Whether the text, once stripped, starts like a JSON object or array. */
export const looksLikeJson = (text: string) => /^\s*[{[]/.test(stripJsonPrefix(text));

/**
 * How deep objects and arrays nest in a JSON text (`{}` is 1, `[[1]]` is 2), found in one pass
 * without recursion or parsing, skipping brackets inside strings. Meant to be asked before a
 * recursive walk of the parsed value, so that a hostile body is refused by name instead of
 * ending the process with "Maximum call stack size exceeded".
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index++; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) max = Math.max(max, ++depth);
    else if (code === 0x7d || code === 0x5d) depth--;
  }
  return max;
}

/**
 * The deepest nesting any tool here walks recursively. Real API bodies nest a dozen levels; a
 * recursive walk has room for some thousands of frames, fewer with large frames, so this leaves a
 * wide margin on both sides.
 */
export const MAX_JSON_DEPTH = 1_000;
