import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';

/**
 * A CPU profile of the api process over one measurement, through its inspector (the process is
 * started with --inspect=127.0.0.1:0). --cpu-prof cannot be used: Nest's shutdown hooks re-raise
 * SIGTERM, and a process killed by a signal never writes its profile.
 */
export class RemoteProfiler {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id!);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
  }

  static async connect(url: string): Promise<RemoteProfiler> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const profiler = new RemoteProfiler(socket);
    await profiler.send('Profiler.enable');
    return profiler;
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  start(): Promise<unknown> {
    return this.send('Profiler.start');
  }

  /** Stops, writes <dir>/<name>.cpuprofile (open it in Chrome DevTools) and returns a summary. */
  async stop(dir: string, name: string): Promise<{ file: string; summary: string }> {
    const { profile } = await this.send<{ profile: CpuProfile }>('Profiler.stop');
    const file = join(dir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return { file, summary: summarize(profile) };
  }

  close(): void {
    this.socket.close();
  }
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** The package (or app file) a frame belongs to; undefined for node core and native frames. */
function owner(callFrame: { functionName: string; url: string }): string | undefined {
  const { url, functionName } = callFrame;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.includes('/dist/')) return `lutece ${url.split('/dist/')[1]}`;
  if (url.includes('async_hooks')) return 'node async_hooks (AsyncLocalStorage)';
  if (!url && ['(garbage collector)', '(idle)', '(program)'].includes(functionName)) return functionName;
  return undefined;
}

/**
 * Self time by npm package (or app file), largest first. Node-core and native frames (socket
 * writes, crypto, ...) are charged to the nearest package below them on the stack, which is the
 * code that asked for the work.
 */
export function summarize(profile: CpuProfile, top = 15): string {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const groupOf = new Map<number, string>();
  const group = (id: number): string => {
    let found = groupOf.get(id);
    if (found === undefined) {
      for (let at: number | undefined = id; at !== undefined && found === undefined; at = parents.get(at)) found = owner(nodes.get(at)!.callFrame);
      found ??= 'node core / native (no package on the stack)';
      groupOf.set(id, found);
    }
    return found;
  };
  const byGroup = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    byGroup.set(group(id), (byGroup.get(group(id)) ?? 0) + delta);
  });
  return [...byGroup]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
}
