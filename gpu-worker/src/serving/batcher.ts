/**
 * Dynamic batching, the way TF Serving and Triton do it: calls that arrive while the model is busy,
 * or within `maxWaitMs` of the first waiting call, are coalesced into one run of at most
 * `maxBatch` items. A call is never split: one larger than `maxBatch` runs alone. Calls are served
 * in arrival order.
 */

export interface BatchRun<O> {
  outputs: O[];
  /** Accelerator time of the run, measured by the runner (waiting for the backend excluded). */
  seconds: number;
}

export interface BatchedResult<O> {
  outputs: O[];
  /** Items in the coalesced batch this call was part of (≥ its own). */
  batchSize: number;
  /** This call's share of the batch's run time, in proportion to its items. */
  seconds: number;
}

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** After each run: its size and duration (the worker's batch-size metric). */
  onBatch?: (size: number, seconds: number) => void;
}

interface Pending<I, O> {
  items: readonly I[];
  enqueuedAt: number;
  resolve: (result: BatchedResult<O>) => void;
  reject: (error: unknown) => void;
}

export class DynamicBatcher<I, O> {
  private readonly pending: Pending<I, O>[] = [];
  private pendingItems = 0;
  private running = false;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;

  constructor(
    private readonly run: (items: I[]) => Promise<BatchRun<O>>,
    private readonly options: BatcherOptions,
  ) {}

  /** Calls waiting for a batch or in the running one. */
  get queued(): number {
    return this.pending.length;
  }

  submit(items: readonly I[]): Promise<BatchedResult<O>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, enqueuedAt: Date.now(), resolve, reject });
      this.pendingItems += items.length;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.pending.length === 0 || this.immediate) return;
    const waited = Date.now() - this.pending[0].enqueuedAt;
    if (this.pendingItems >= this.options.maxBatch || waited >= this.options.maxWaitMs) {
      clearTimeout(this.timer);
      this.timer = undefined;
      // Not inside submit(): the caller's promise executor must not run the model.
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        void this.flush();
      });
    } else if (!this.timer) {
      // The wait counts from the oldest waiting call, so a call that waited through a run does not wait again.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.maxWaitMs - waited);
    }
  }

  private async flush(): Promise<void> {
    if (this.running || this.pending.length === 0) return;
    const batch: Pending<I, O>[] = [];
    let size = 0;
    while (this.pending.length > 0 && (batch.length === 0 || size + this.pending[0].items.length <= this.options.maxBatch)) {
      const call = this.pending.shift()!;
      batch.push(call);
      size += call.items.length;
    }
    this.pendingItems -= size;
    this.running = true;
    try {
      const { outputs, seconds } = await this.run(batch.flatMap((call) => call.items));
      if (outputs.length !== size) throw new Error(`the model returned ${outputs.length} outputs for ${size} inputs`);
      this.options.onBatch?.(size, seconds);
      let offset = 0;
      for (const call of batch) {
        const count = call.items.length;
        call.resolve({ outputs: outputs.slice(offset, offset + count), batchSize: size, seconds: (seconds * count) / size });
        offset += count;
      }
    } catch (error) {
      for (const call of batch) call.reject(error);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
