import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time (user + system) of processes and threads, from /proc (Linux). On a small machine the
 * api, PostgreSQL and the load generator share the same cores, so "how much CPU does one request
 * cost, and where" explains a requests/s figure better than the figure alone.
 */

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of /proc/<path>/stat, in ms; undefined when it cannot be read. */
export function cpuMs(statPath: string): number | undefined {
  try {
    const stat = readFileSync(statPath, 'utf8');
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / clockTicks() : undefined;
  } catch {
    return undefined;
  }
}

export const processCpuMs = (pid: number) => cpuMs(`/proc/${pid}/stat`);
/** The main thread of this process only (its task id is the pid): excludes autocannon's worker. */
export const mainThreadCpuMs = () => cpuMs(`/proc/${process.pid}/task/${process.pid}/stat`);

/** Sums CPU over a set of pids (e.g. PostgreSQL backends); pids that vanished count as 0. */
export function sumCpuMs(pids: number[]): Map<number, number> {
  const result = new Map<number, number>();
  for (const pid of pids) result.set(pid, processCpuMs(pid) ?? 0);
  return result;
}

/** Busy CPU time of the whole machine (all cores, every process), in ms, from /proc/stat. */
export function machineBusyMs(): number | undefined {
  try {
    const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const [user, nice, system, , , irq, softirq, steal] = values.map(Number);
    return ((user + nice + system + irq + softirq + (steal || 0)) * 1000) / clockTicks();
  } catch {
    return undefined;
  }
}

export interface CpuSplit {
  /** The server under test: the api process, or the bare app's thread. */
  serverMs?: number;
  /** PostgreSQL backends serving the api's database. */
  postgresMs?: number;
  /** This process (autocannon's worker, plus the bare app when it is the server). */
  benchMs?: number;
  /** Everything else on the machine during the run: other people's work, Redis, the OS. */
  otherMs?: number;
  wallMs: number;
}

export interface CpuSources {
  server: () => number | undefined;
  /** The bare app is a thread of this process, so its CPU is inside benchMs too. */
  serverInThisProcess: boolean;
  /** Pids whose CPU counts as PostgreSQL's; asked before and after the run. */
  postgresPids?: () => Promise<number[]>;
}

/** Starts measuring; the returned function stops and returns the split. */
export async function startCpuSplit(sources: CpuSources): Promise<() => Promise<CpuSplit>> {
  // A PostgreSQL on another host (BENCH_DATABASE_URL) has no /proc entries here: no figure then.
  const pgPids = sources.postgresPids ? await sources.postgresPids() : [];
  const pgBefore = pgPids.some((pid) => processCpuMs(pid) !== undefined) ? sumCpuMs(pgPids) : undefined;
  const serverBefore = sources.server();
  const benchBefore = processCpuMs(process.pid);
  const machineBefore = machineBusyMs();
  const started = Date.now();
  return async () => {
    const wallMs = Date.now() - started;
    const machineAfter = machineBusyMs();
    const benchAfter = processCpuMs(process.pid);
    const serverAfter = sources.server();
    let postgresMs: number | undefined;
    if (pgBefore && sources.postgresPids) {
      const pids = new Set([...pgBefore.keys(), ...(await sources.postgresPids())]);
      postgresMs = 0;
      for (const [pid, after] of sumCpuMs([...pids])) postgresMs += Math.max(0, after - (pgBefore.get(pid) ?? 0));
    }
    const delta = (after?: number, before?: number) => (after !== undefined && before !== undefined ? after - before : undefined);
    const serverMs = delta(serverAfter, serverBefore);
    const benchMs = delta(benchAfter, benchBefore);
    const machineMs = delta(machineAfter, machineBefore);
    // The bare app runs in this process: its thread is in benchMs already.
    const serverOutsideBench = sources.serverInThisProcess ? 0 : (serverMs ?? 0);
    const otherMs = machineMs !== undefined && benchMs !== undefined ? Math.max(0, machineMs - benchMs - serverOutsideBench - (postgresMs ?? 0)) : undefined;
    return { serverMs, postgresMs, benchMs, otherMs, wallMs };
  };
}
