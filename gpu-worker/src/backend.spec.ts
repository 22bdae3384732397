import * as tf from '@tensorflow/tfjs';
import type { TfjsBackend } from '../../src/contracts/training';
import { BackendLease, installedCandidates, probeFamilies, probeFamily, selectBackend, type BackendCandidate } from './backend';
import type { ModelFamily } from './families';

function candidate(name: TfjsBackend, available: boolean | string): BackendCandidate {
  return {
    name,
    activate: async () => {
      if (available !== true) throw new Error(typeof available === 'string' ? available : 'absent');
    },
  };
}

/** A family built on an embedding layer: its gradient needs UnsortedSegmentSum, which wasm lacks. */
const embeddingFamily = {
  id: 'text-classifier',
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
  probePreprocessing: () => ({ kind: 'sequence', seriesColumn: 'x', window: 4, mean: 0, std: 1 }),
  build: () =>
    tf.sequential({
      layers: [tf.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 4 }), tf.layers.flatten(), tf.layers.dense({ units: 2, activation: 'softmax' })],
    }),
} as unknown as ModelFamily;

beforeAll(() => tf.env().set('PROD', true));

describe('backend selection', () => {
  it('takes the first backend of the preferred order that activates, and says why the others were passed over', async () => {
    const result = await selectBackend([candidate('tensorflow-gpu', 'no NVIDIA device is visible'), candidate('tensorflow', false), candidate('wasm', true), candidate('cpu', true)]);
    expect(result.backend).toBe('wasm');
    expect(result.skipped).toEqual([
      { backend: 'tensorflow-gpu', reason: 'no NVIDIA device is visible' },
      { backend: 'tensorflow', reason: 'absent' },
    ]);
  });

  it('honours WORKER_BACKEND, and fails rather than training on another backend', async () => {
    const candidates = [candidate('tensorflow', false), candidate('wasm', true), candidate('cpu', true)];
    expect((await selectBackend(candidates, 'cpu')).backend).toBe('cpu');
    await expect(selectBackend(candidates, 'tensorflow')).rejects.toThrow('WORKER_BACKEND=tensorflow is not available on this node (tensorflow: absent)');
  });

  it('on this machine: no native TensorFlow, so wasm', async () => {
    const result = await selectBackend(installedCandidates());
    expect(result.backend).toBe('wasm');
    expect(result.skipped.map((s) => s.backend)).toEqual(['tensorflow-gpu', 'tensorflow']);
  });

  it('every base model trains one step on wasm', async () => {
    const families = await probeFamilies('wasm');
    expect(Object.fromEntries(families)).toEqual({ 'tabular-classifier': 'wasm', 'tabular-regressor': 'wasm', 'text-classifier': 'wasm', 'sequence-forecaster': 'wasm' });
  });

  it('a probe catches a kernel wasm lacks, and the family falls back to cpu', async () => {
    await tf.setBackend('wasm');
    await expect(probeFamily(embeddingFamily)).rejects.toThrow(/UnsortedSegmentSum/);
    await tf.setBackend('cpu');
    await expect(probeFamily(embeddingFamily)).resolves.toBeUndefined();

    const families = await probeFamilies('wasm', async (family) => {
      if (family.id === 'text-classifier') await probeFamily(embeddingFamily);
    });
    expect(families.get('text-classifier')).toBe('cpu');
    expect(families.get('tabular-classifier')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
});

describe('BackendLease', () => {
  it('lets jobs on the same backend run together and makes a switch wait until they are done', async () => {
    const lease = new BackendLease();
    const releaseA = await lease.acquire('wasm');
    const releaseB = await lease.acquire('wasm');
    expect(tf.getBackend()).toBe('wasm');

    let switched = false;
    const cpu = lease.acquire('cpu').then((release) => {
      switched = true;
      return release;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    releaseA();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(switched).toBe(false);
    releaseB();
    const releaseCpu = await cpu;
    expect(tf.getBackend()).toBe('cpu');
    releaseCpu();
  });
});
