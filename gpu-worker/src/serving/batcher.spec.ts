import { DynamicBatcher, type BatchRun } from './batcher';

/** A model that doubles its inputs and records the size of every run. */
function doubler(options: { maxBatch: number; maxWaitMs: number }, runSeconds = 0.012) {
  const runs: number[][] = [];
  const batches: number[] = [];
  const batcher = new DynamicBatcher<number, number>(
    async (items): Promise<BatchRun<number>> => {
      runs.push(items);
      return { outputs: items.map((x) => x * 2), seconds: runSeconds };
    },
    { ...options, onBatch: (size) => batches.push(size) },
  );
  return { batcher, runs, batches };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dynamic batching', () => {
  it('coalesces calls that arrive within the wait into one run, and gives each call its own outputs', async () => {
    const { batcher, runs } = doubler({ maxBatch: 64, maxWaitMs: 20 });
    const calls = [batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5, 6])];
    const results = await Promise.all(calls);
    expect(runs).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(results.map((r) => r.outputs)).toEqual([[2, 4], [6], [8, 10, 12]]);
    expect(results.map((r) => r.batchSize)).toEqual([6, 6, 6]);
    // The run's time is shared by rows: 2/6, 1/6 and 3/6 of 12 ms.
    results.forEach((r, i) => expect(r.seconds).toBeCloseTo([0.004, 0.002, 0.006][i], 12));
  });

  it('runs as soon as a batch is full, without waiting, and never splits a call', async () => {
    const { batcher, runs } = doubler({ maxBatch: 4, maxWaitMs: 10_000 });
    const started = Date.now();
    await Promise.all([batcher.submit([1, 2, 3]), batcher.submit([4, 5]), batcher.submit([6, 7])]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(runs).toEqual([[1, 2, 3], [4, 5, 6, 7]]);
    const big = await batcher.submit([1, 2, 3, 4, 5, 6]);
    expect(big.batchSize).toBe(6);
  });

  it('runs a lone call after the wait, and calls that arrive during a run form the next batch', async () => {
    const runs: number[][] = [];
    let release!: () => void;
    const batcher = new DynamicBatcher<number, number>(
      async (items) => {
        runs.push(items);
        if (runs.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return { outputs: items, seconds: 0.001 };
      },
      { maxBatch: 64, maxWaitMs: 5 },
    );
    const first = batcher.submit([1]);
    await sleep(30);
    expect(runs).toEqual([[1]]);
    const during = [batcher.submit([2]), batcher.submit([3])];
    await sleep(30);
    expect(runs).toHaveLength(1);
    release();
    await Promise.all([first, ...during]);
    expect(runs).toEqual([[1], [2, 3]]);
  });

  it('fails every call of a failed run, and keeps serving the next ones', async () => {
    let fail = true;
    const batcher = new DynamicBatcher<number, number>(
      async (items) => {
        if (fail) throw new Error('kernel missing');
        return { outputs: items, seconds: 0 };
      },
      { maxBatch: 8, maxWaitMs: 1 },
    );
    const failed = await Promise.allSettled([batcher.submit([1]), batcher.submit([2])]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect((await batcher.submit([3])).outputs).toEqual([3]);
  });

  it('reports every run to the metric hook', async () => {
    const { batcher, batches } = doubler({ maxBatch: 3, maxWaitMs: 1 });
    await Promise.all([1, 2, 3, 4, 5].map((x) => batcher.submit([x])));
    expect(batches).toEqual([3, 2]);
  });
});
