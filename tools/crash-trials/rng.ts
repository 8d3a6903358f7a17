/**
 * A small seeded PRNG (splitmix32-style mixing over a 32-bit state, as mulberry32): the crash
 * trials, the power-loss simulation and the fuzzer draw every random choice from it, so a seed
 * replays the same choices. Not for anything cryptographic.
 */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A fresh generator whose sequence depends on this seed and `label` only (not on draws made). */
  static derive(seed: number, ...labels: (string | number)[]): Rng {
    let h = (seed >>> 0) ^ 0x9e3779b9;
    for (const label of labels) {
      for (const char of String(label)) h = Math.imul(h ^ char.charCodeAt(0), 0x01000193) >>> 0;
      h = Math.imul(h ^ 0x2f, 0x01000193) >>> 0;
    }
    return new Rng(h);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A 31-bit seed for a child generator or a child process. */
  seed(): number {
    return Math.floor(this.next() * 0x7fffffff);
  }
}
