// A fixed-capacity ring buffer: the event stream keeps the newest `capacity` entries, so its
// memory stays bounded however fast the log grows.
export class Ring<T> {
  readonly capacity: number;
  #items: T[] = [];
  #next = 0; // where the next push goes once the ring is full

  constructor(capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 1)) throw new RangeError(`Ring: bad capacity ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number { return this.#items.length; }

  push(item: T): void {
    if (this.#items.length < this.capacity) this.#items.push(item);
    else this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
  }

  // The newest `count` items (or fewer) matching `keep`, oldest first.
  newest(count: number, keep: (item: T) => boolean = () => true): T[] {
    const found: T[] = [];
    const size = this.#items.length;
    for (let i = 1; i <= size && found.length < count; i++) {
      const item = this.#items[(this.#next - i + size) % size]!;
      if (keep(item)) found.push(item);
    }
    return found.reverse();
  }

  clear(): void {
    this.#items = [];
    this.#next = 0;
  }
}
