/**
 * Seeded randomness for everything the worker shuffles. A resumed job must split and order its data
 * exactly as the interrupted attempt did, which Math.random (used by tfjs's own shuffle) cannot give.
 */

/** mulberry32: small, fast, and good enough to shuffle rows. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A permutation of 0..size-1 (Fisher–Yates). */
export function shuffledOrder(size: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: size }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Derives independent seeds for different uses (split, epoch order, layer weights) from the job's seed. */
export function deriveSeed(seed: number, purpose: string, index = 0): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (const char of `${purpose}:${index}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
