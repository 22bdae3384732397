import autocannon from 'autocannon';
import { cpus } from 'node:os';
import { CpuSources, startCpuSplit } from './cpu';

export interface LoadTarget {
  label: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The exact response body every request must get back (checked for each response). */
  expectBody: string;
  cpu: CpuSources;
}

export interface LoadSettings {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** autocannon worker threads; 0 runs autocannon on the main thread. */
  workers: number;
  say: (line: string) => void;
}

export interface LoadFigures {
  label: string;
  requestsPerSecond: number;
  requestsPerSecondStddev: number;
  p50: number;
  p99: number;
  totalRequests: number;
  /** CPU ms per request: the server (api process or bare app thread), PostgreSQL, autocannon. */
  serverCpuMs?: number;
  postgresCpuMs?: number;
  loadGeneratorCpuMs?: number;
  /** Share of the machine's CPU capacity used by anything else during the run, in %. */
  otherLoadPercent?: number;
}

async function fire(target: LoadTarget, settings: LoadSettings, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: target.url,
    method: 'POST',
    headers: target.headers,
    body: target.body,
    expectBody: target.expectBody,
    connections: settings.connections,
    duration: seconds,
    // Off the thread of the bare app, which shares this process: a load generator on the server's
    // own event loop would take CPU from one side of the comparison only.
    ...(settings.workers > 0 ? { workers: settings.workers } : {}),
  });
}

/** Anything but "every response was a 2xx with exactly the expected body" fails the benchmark. */
function check(target: LoadTarget, phase: string, result: autocannon.Result): void {
  const problems: string[] = [];
  if (result.non2xx) problems.push(`${result.non2xx} non-2xx responses (${JSON.stringify(result.statusCodeStats)})`);
  if (result.errors) problems.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
  if (result.mismatches) problems.push(`${result.mismatches} responses whose body differed from the expected one (GraphQL errors?)`);
  if (!result['2xx']) problems.push('no 2xx response at all');
  if (problems.length) throw new Error(`${target.label} (${phase}): ${problems.join('; ')}`);
}

export interface MeasureHooks {
  /** Called just before the measured run (after warm-up), and just after it. */
  before?: () => Promise<unknown>;
  after?: () => Promise<unknown>;
}

export async function measure(target: LoadTarget, settings: LoadSettings, hooks: MeasureHooks = {}): Promise<LoadFigures> {
  const { say } = settings;
  if (settings.warmupSeconds > 0) {
    say(`${target.label}: warm-up, ${settings.warmupSeconds} s x ${settings.connections} connections`);
    check(target, 'warm-up', await fire(target, settings, settings.warmupSeconds));
  }
  say(`${target.label}: measuring, ${settings.durationSeconds} s x ${settings.connections} connections`);
  await hooks.before?.();
  const stopCpu = await startCpuSplit(target.cpu);
  const result = await fire(target, settings, settings.durationSeconds);
  const cpu = await stopCpu();
  await hooks.after?.();
  check(target, 'measure', result);
  const total = result.requests.total;
  const perRequest = (ms?: number) => (ms === undefined || !total ? undefined : ms / total);
  const figures: LoadFigures = {
    label: target.label,
    requestsPerSecond: result.requests.average,
    requestsPerSecondStddev: result.requests.stddev,
    p50: result.latency.p50,
    p99: result.latency.p99,
    totalRequests: total,
    serverCpuMs: perRequest(cpu.serverMs),
    postgresCpuMs: target.cpu.postgresPids ? perRequest(cpu.postgresMs) : undefined,
    loadGeneratorCpuMs: perRequest(cpu.benchMs === undefined ? undefined : cpu.benchMs - (target.cpu.serverInThisProcess ? (cpu.serverMs ?? 0) : 0)),
    otherLoadPercent: cpu.otherMs === undefined ? undefined : (100 * cpu.otherMs) / (cpu.wallMs * cpus().length),
  };
  say(`${target.label}: ${figures.requestsPerSecond.toFixed(0)} req/s, p50 ${figures.p50} ms, p99 ${figures.p99} ms (${figures.totalRequests} requests, all 2xx with the expected body)`);
  if (figures.otherLoadPercent !== undefined && figures.otherLoadPercent > 10) {
    say(`${target.label}: note: other processes used ${figures.otherLoadPercent.toFixed(0)}% of the machine's CPU during this run`);
  }
  return figures;
}
