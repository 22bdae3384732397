import type Redis from 'ioredis';

const POLL_INTERVAL_MS = 200;

/**
 * Watches a job's cancel key. `poll()` is called after every batch and costs nothing most of the
 * time: at most one EXISTS every 200 ms, never awaited, so a batch never waits on Redis. The answer
 * lands at tfjs's next yield to the event loop and stops training at the batch after it.
 */
export class CancelWatch {
  private cancelled = false;
  private inFlight = false;
  private lastPollAt = 0;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  get requested(): boolean {
    return this.cancelled;
  }

  poll(): void {
    const now = Date.now();
    if (this.cancelled || this.inFlight || now - this.lastPollAt < POLL_INTERVAL_MS) return;
    this.lastPollAt = now;
    this.inFlight = true;
    this.redis
      .exists(this.key)
      .then((count) => {
        if (count > 0) this.cancelled = true;
      })
      // A Redis hiccup delays a cancellation by one poll; it must not fail the training.
      .catch(() => undefined)
      .finally(() => (this.inFlight = false));
  }

  /** A fresh answer, for the moments between epochs when waiting is free. */
  async check(): Promise<boolean> {
    if (!this.cancelled && (await this.redis.exists(this.key)) > 0) this.cancelled = true;
    return this.cancelled;
  }
}
