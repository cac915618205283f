/**
 * Layer-name globs (`*` any run of characters, `?` one character, everything else literal),
 * matched without regular expressions and without backtracking: the pattern is cut at its `*`s
 * into segments; the first must match at the start, the last at the end, and each middle one is
 * taken at its leftmost place after the previous (leftmost is never worse, so no choice is ever
 * revisited). Time is O(name length × pattern length) at worst, linear in the name for a given
 * pattern; `*?*?...*?x` against a long name that does not end in x finishes at once.
 * Tested in test/dsl/policy.test.ts.
 */

const STAR = '*';
const ANY = '?';

export function isGlob(pattern: string): boolean {
  return pattern.includes(STAR) || pattern.includes(ANY);
}

/** Whether `segment` (no `*`, `?` for any character) matches `text` at `at`. */
function segmentAt(text: string, at: number, segment: string): boolean {
  if (at < 0 || at + segment.length > text.length) return false;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c !== ANY && c !== text[at + i]) return false;
  }
  return true;
}

/** Whether the glob matches the whole of `text`. */
export function globMatches(pattern: string, text: string): boolean {
  const segments = pattern.split(STAR);
  const first = segments[0]!;
  if (segments.length === 1) return first.length === text.length && segmentAt(text, 0, first);
  const last = segments[segments.length - 1]!;
  const end = text.length - last.length;
  if (first.length > end || !segmentAt(text, 0, first) || !segmentAt(text, end, last)) return false;
  let at = first.length;
  for (let s = 1; s < segments.length - 1; s++) {
    const segment = segments[s]!;
    let found = -1;
    for (let p = at; p + segment.length <= end; p++) {
      if (segmentAt(text, p, segment)) {
        found = p;
        break;
      }
    }
    if (found < 0) return false;
    at = found + segment.length;
  }
  return true;
}
