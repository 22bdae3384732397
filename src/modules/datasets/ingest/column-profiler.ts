/**
 * Infers a column's type and counts nulls and distinct values in bounded memory. Distinct counts
 * use a k-minimum-values sketch: exact below k distinct values, an estimate above. It never keeps
 * values themselves (only 53-bit hashes), so profiles can be stored without leaking cells.
 */
export type ColumnType = 'numeric' | 'boolean' | 'categorical' | 'text';

export interface ColumnProfile {
  name: string;
  type: ColumnType;
  nullCount: number;
  distinctEstimate: number;
  pseudonymized: boolean;
}

const SKETCH_SIZE = 256;
const MAX_HASH = 2 ** 53;
const BOOLEAN_WORDS = new Set(['true', 'false', 'yes', 'no']);
const NUMBER_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** cyrb53: a fast, well-mixed 53-bit string hash (not cryptographic; for counting only). */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

export function isNumeric(value: string): boolean {
  return NUMBER_PATTERN.test(value.trim());
}

export class ColumnProfiler {
  private nulls = 0;
  private nonNull = 0;
  private numeric = 0;
  private booleans = 0;
  private longest = 0;
  /** Sorted ascending, at most SKETCH_SIZE smallest distinct hashes. */
  private readonly sketch: number[] = [];

  constructor(
    readonly name: string,
    readonly pseudonymized: boolean,
  ) {}

  observe(value: string | number | boolean | null | undefined): void {
    if (value === null || value === undefined || value === '') {
      this.nulls++;
      return;
    }
    this.nonNull++;
    const text = String(value);
    if (typeof value === 'number' || (typeof value === 'string' && isNumeric(value))) this.numeric++;
    if (typeof value === 'boolean' || BOOLEAN_WORDS.has(text.toLowerCase())) this.booleans++;
    if (text.length > this.longest) this.longest = text.length;
    this.addToSketch(hash53(text));
  }

  observeMissing(count: number): void {
    this.nulls += count;
  }

  profile(): ColumnProfile {
    return { name: this.name, type: this.inferType(), nullCount: this.nulls, distinctEstimate: this.distinctEstimate(), pseudonymized: this.pseudonymized };
  }

  private inferType(): ColumnType {
    if (this.nonNull > 0 && !this.pseudonymized) {
      if (this.numeric === this.nonNull) return 'numeric';
      if (this.booleans === this.nonNull) return 'boolean';
    }
    const distinct = this.distinctEstimate();
    const fewValues = distinct <= Math.max(20, this.nonNull * 0.05);
    return fewValues && this.longest <= 64 ? 'categorical' : 'text';
  }

  private distinctEstimate(): number {
    if (this.sketch.length < SKETCH_SIZE) return this.sketch.length;
    const kth = this.sketch[SKETCH_SIZE - 1] / MAX_HASH;
    return Math.round((SKETCH_SIZE - 1) / kth);
  }

  private addToSketch(h: number): void {
    const sketch = this.sketch;
    if (sketch.length === SKETCH_SIZE && h >= sketch[SKETCH_SIZE - 1]) return;
    let low = 0;
    let high = sketch.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (sketch[mid] < h) low = mid + 1;
      else high = mid;
    }
    if (sketch[low] === h) return;
    sketch.splice(low, 0, h);
    if (sketch.length > SKETCH_SIZE) sketch.pop();
  }
}
