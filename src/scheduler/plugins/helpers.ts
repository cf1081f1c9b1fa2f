/**
 * Helpers shared by plugins: score normalization. (The matching predicates — tolerations,
 * node selector terms — are in the client library, shared with the DaemonSet and node
 * controllers.)
 */
/** upstream's `DefaultNormalizeScore`: scale to 0–max by the largest score, optionally reversed. */
export function defaultNormalize(scores: Float64Array, reverse: boolean, maxScore = 100): void {
  let top = 0;
  for (const s of scores) if (s > top) top = s;
  if (top === 0) {
    if (reverse) scores.fill(maxScore);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((maxScore * scores[i]!) / top);
    scores[i] = reverse ? maxScore - s : s;
  }
}
