import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import { BASE_MODELS, type BaseModelId, type TfjsBackend } from '../../src/contracts/training';
import { FAMILIES, type ModelFamily } from './families';

/**
 * Which TensorFlow.js backend trains. The best one present wins: libtensorflow with CUDA, then
 * libtensorflow on the CPU, then WebAssembly, then plain JavaScript. The native packages are
 * optional dependencies (their install downloads libtensorflow), so they are required with a guard.
 */

export const BACKEND_ORDER: readonly TfjsBackend[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendCandidate {
  name: TfjsBackend;
  /** Makes the backend available and active; throws, saying why, when it is absent or does not start. */
  activate(): Promise<void>;
}

/** What the worker found: the backend it trains on, and the one each family actually runs on. */
export interface BackendSelection {
  primary: TfjsBackend;
  families: Map<BaseModelId, TfjsBackend>;
  /** Better backends that were passed over, and why (for the startup log). */
  skipped: { backend: TfjsBackend; reason: string }[];
}

function guardedRequire(name: string): void {
  try {
    require(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new Error(code === 'MODULE_NOT_FOUND' ? `${name} is not installed` : `${name} did not load (${(error as Error).name})`);
  }
}

/** tfjs-node and tfjs-node-gpu both register as "tensorflow"; the platform tells them apart. */
function registryName(backend: TfjsBackend): string {
  return backend === 'tensorflow-gpu' ? 'tensorflow' : backend;
}

async function use(backend: TfjsBackend): Promise<void> {
  if (!(await tf.setBackend(registryName(backend)))) throw new Error(`the ${backend} backend did not initialise`);
}

/**
 * tfjs-node-gpu falls back to the CPU silently when CUDA finds no device; that would be CPU time
 * reported as GPU time, so the GPU backend is only tried when the node exposes an NVIDIA device.
 */
export function nvidiaDeviceVisible(): boolean {
  try {
    if (existsSync('/dev/nvidia0')) return true;
    return existsSync('/proc/driver/nvidia/gpus') && readdirSync('/proc/driver/nvidia/gpus').length > 0;
  } catch {
    return false;
  }
}

async function activateNative(packageName: string): Promise<void> {
  guardedRequire(packageName);
  // The package registers "tensorflow" in the tfjs-core it resolves; a second copy of tfjs-core
  // (a version mismatch) would leave ours without it.
  if (!tf.findBackendFactory('tensorflow')) throw new Error(`${packageName} registered its backend in another copy of tfjs-core`);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${packageName} did not initialise`);
}

export function installedCandidates(): BackendCandidate[] {
  return [
    {
      name: 'tensorflow-gpu',
      activate: async () => {
        if (!nvidiaDeviceVisible()) throw new Error('no NVIDIA device is visible');
        await activateNative('@tensorflow/tfjs-node-gpu');
      },
    },
    { name: 'tensorflow', activate: () => activateNative('@tensorflow/tfjs-node') },
    {
      name: 'wasm',
      activate: async () => {
        guardedRequire('@tensorflow/tfjs-backend-wasm');
        await use('wasm');
      },
    },
    { name: 'cpu', activate: () => use('cpu') },
  ];
}

/** The first candidate that activates, or exactly `forced` (failing loudly rather than training elsewhere). */
export async function selectBackend(candidates: readonly BackendCandidate[], forced?: TfjsBackend): Promise<{ backend: TfjsBackend; skipped: BackendSelection['skipped'] }> {
  const skipped: BackendSelection['skipped'] = [];
  for (const candidate of forced ? candidates.filter((c) => c.name === forced) : candidates) {
    try {
      await candidate.activate();
      return { backend: candidate.name, skipped };
    } catch (error) {
      skipped.push({ backend: candidate.name, reason: (error as Error).message });
    }
  }
  const reasons = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new Error(forced ? `WORKER_BACKEND=${forced} is not available on this node (${reasons})` : `no TensorFlow.js backend is available (${reasons})`);
}

/** One training step of the family's real architecture on dummy data: throws if a kernel is missing. */
export async function probeFamily(family: ModelFamily): Promise<void> {
  const model = family.build(family.probePreprocessing(), 1);
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const outputs = model.outputs[0].shape[1] as number;
  const xs = tf.randomUniform([2, ...inputShape], 0, 1, 'float32', 1);
  const ys = outputs > 1 ? tf.oneHot(tf.tensor1d([0, 1], 'int32'), outputs).toFloat() : tf.ones([2, 1]);
  try {
    model.compile({ optimizer: tf.train.adam(0.001), loss: family.loss, metrics: family.metrics });
    await model.fit(xs, ys, { epochs: 1, batchSize: 2, verbose: 0 });
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

/** Probes every family on `primary`, falling back to cpu for a family the backend cannot train. */
export async function probeFamilies(primary: TfjsBackend, probe: (family: ModelFamily) => Promise<void> = probeFamily): Promise<Map<BaseModelId, TfjsBackend>> {
  const chosen = new Map<BaseModelId, TfjsBackend>();
  for (const id of BASE_MODELS) {
    for (const backend of primary === 'cpu' ? ['cpu' as const] : [primary, 'cpu' as const]) {
      try {
        await use(backend);
        await probe(FAMILIES[id]);
        chosen.set(id, backend);
        break;
      } catch {
        // A missing kernel: try the next backend.
      }
    }
  }
  await use(primary);
  return chosen;
}

export async function selectBackends(forced?: TfjsBackend, candidates: readonly BackendCandidate[] = installedCandidates()): Promise<BackendSelection> {
  // Our own logs say which backend runs; tfjs's console banners would break the JSON log stream.
  tf.env().set('PROD', true);
  const { backend: primary, skipped } = await selectBackend(candidates, forced);
  return { primary, families: await probeFamilies(primary), skipped };
}

/**
 * Several jobs of a worker share one tfjs engine, whose backend is global: a job may switch it only
 * when no job is running on another one. With the default concurrency of 1 this never waits.
 */
export class BackendLease {
  private active: TfjsBackend | undefined;
  private running = 0;
  private switching: Promise<void> = Promise.resolve();
  private waiters: (() => void)[] = [];

  async acquire(backend: TfjsBackend): Promise<() => void> {
    while (this.running > 0 && this.active !== backend) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.running++;
    if (this.active !== backend || tf.getBackend() !== registryName(backend)) {
      this.active = backend;
      this.switching = use(backend);
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--this.running === 0) for (const wake of this.waiters.splice(0)) wake();
    };
    try {
      await this.switching;
    } catch (error) {
      this.active = undefined;
      release();
      throw error;
    }
    return release;
  }
}
