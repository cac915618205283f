/**
 * Wildcard patterns (`*` any run of characters, `?` any one character, everything else literal),
 * matched against a whole string without backtracking: the pattern is cut at its stars into
 * segments; the first must match at the start, the last at the end, and each middle one is taken
 * at its leftmost place (always right for star-separated segments). Time is at most
 * O(text length × pattern length), whatever the pattern: no regular expression, so no
 * catastrophic backtracking on patterns like `*?*?*?…x`.
 */

/** Whether a pattern has wildcard characters. */
export function hasWildcards(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** Whether `segment` (no stars; `?` any character) matches `text` at `at`. */
function segmentAt(segment: string, text: string, at: number): boolean {
  if (at + segment.length > text.length) return false;
  for (let i = 0; i < segment.length; i++) {
    const p = segment[i]!;
    if (p !== '?' && p !== text[at + i]) return false;
  }
  return true;
}

/** The leftmost place at or after `from` where `segment` matches, or -1. */
function findSegment(segment: string, text: string, from: number): number {
  for (let at = from; at + segment.length <= text.length; at++) if (segmentAt(segment, text, at)) return at;
  return -1;
}

/** Whether the whole of `text` matches `pattern`. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const segments = pattern.split('*');
  if (segments.length === 1) return segments[0]!.length === text.length && segmentAt(segments[0]!, text, 0);
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  if (first.length + last.length > text.length) return false;
  if (!segmentAt(first, text, 0) || !segmentAt(last, text, text.length - last.length)) return false;
  let at = first.length;
  const end = text.length - last.length;
  for (const middle of segments.slice(1, -1)) {
    const found = findSegment(middle, text.slice(0, end), at);
    if (found < 0) return false;
    at = found + middle.length;
  }
  return true;
}
