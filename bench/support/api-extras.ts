import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { machineBusyMs, processCpuMs } from './cpu';
import { Platform } from './platform';

/**
 * What the dataset-upload and training-overhead benchmarks need around `Platform` (support/platform.ts,
 * shared with the other benchmarks and left unchanged): api variables that Platform.start does not
 * set, the api's child processes (its local gpu-worker), and memory readings from /proc.
 */

export function say(line: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export function numberFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
/** 10^6 bytes: every "MB" these benchmarks print. */
export const MB = 1e6;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100): with 20 samples, p99 is the largest. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface PlatformSettings {
  adminDatabaseUrl: string;
  redisUrl: string;
  appRolePassword: string;
}

export function platformSettingsFromEnv(): PlatformSettings {
  return {
    adminDatabaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    appRolePassword: process.env.BENCH_APP_ROLE_PASSWORD ?? 'lutece_app_dev_password',
  };
}

/**
 * Starts the platform with extra api variables (e.g. MAX_UPLOAD_BYTES, WORKERS). Platform.start
 * passes a fixed environment, so they go through node's `--env-file`: the file only fills
 * variables that environment leaves unset (those it sets, such as STORAGE_DIR or REDIS_PREFIX, win).
 * The file lives in a private temporary directory and is removed as soon as the api is up.
 */
export async function startPlatformWith(extraEnv: Record<string, string>, nodeArgs: string[] = [], settings: PlatformSettings = platformSettingsFromEnv()): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), 'lutece-bench-env-'));
  const file = join(dir, 'api.env');
  for (const [name, value] of Object.entries(extraEnv)) {
    if (!/^[A-Z0-9_]+$/.test(name) || /[\r\n"'\\]/.test(value)) throw new Error(`cannot pass ${name}=${value} through an env file`);
  }
  writeFileSync(file, Object.entries(extraEnv).map(([name, value]) => `${name}=${value}\n`).join(''), { mode: 0o600 });
  try {
    return await Platform.start({ ...settings, nodeArgs: [...nodeArgs, `--env-file=${file}`], say });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Direct children of `pid` (e.g. the api's local gpu-workers), from /proc/<pid>/stat's ppid field. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** VmRSS of a process in bytes, from /proc. */
export function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

export interface RssWatch {
  readonly before: number;
  /** Peak so far (also readable while watching, for progress lines). */
  peak(): number;
  current(): number;
  stop(): { before: number; peak: number; after: number; samples: number };
}

/** Polls VmRSS every `intervalMs` (20 ms by default) until stopped. */
export function watchRss(pid: number, intervalMs = 20): RssWatch {
  const before = rssOf(pid);
  let peak = before;
  let last = before;
  let samples = 1;
  const sample = () => {
    try {
      last = rssOf(pid);
      peak = Math.max(peak, last);
      samples++;
    } catch {
      // the process is gone; the caller notices
    }
  };
  const timer = setInterval(sample, intervalMs);
  return {
    before,
    peak: () => peak,
    current: () => last,
    stop: () => {
      clearInterval(timer);
      sample();
      return { before, peak, after: last, samples };
    },
  };
}

/**
 * Starts measuring the CPU that processes other than `pids` use (other people's work, PostgreSQL,
 * Redis, the OS); stop() returns it as a percentage of all cores over the wall time.
 */
export function othersMeter(pids: number[]): { stop(): number } {
  const sum = () => pids.reduce((total, pid) => total + (processCpuMs(pid) ?? 0), 0);
  const machineBefore = machineBusyMs() ?? 0;
  const oursBefore = sum();
  const started = process.hrtime.bigint();
  return {
    stop: () => {
      const wallMs = seconds(started) * 1000;
      const others = (machineBusyMs() ?? 0) - machineBefore - (sum() - oursBefore);
      return (100 * Math.max(0, others)) / (wallMs * cpus().length);
    },
  };
}

/** A fresh tenant (signed-up owner) with one project, for benchmarks that drive the api as a user. */
export async function createBenchTenant(platform: Platform, label: string): Promise<{ token: string; projectId: string }> {
  const signUp = await platform.graphql('mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }', {
    input: { email: `bench-${label}-${Date.now()}@example.test`, password: 'correct horse battery staple', displayName: 'Bench', tenantName: `Bench ${label} tenant` },
  });
  const token: string | undefined = signUp.data?.signUp?.accessToken;
  if (!token) throw new Error(`signUp failed (${signUp.status}): ${signUp.text}`);
  const project = await platform.graphql('mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }', { input: { name: `Bench ${label}`, dataClassification: 'CONFIDENTIAL' } }, token);
  if (!project.data?.createProject?.id) throw new Error(`createProject failed: ${project.text}`);
  return { token, projectId: project.data.createProject.id };
}

/** Runs a benchmark's `main`: exits with 0 once it is done, or with 1 and the stack if it fails. */
export function runBenchmark(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench/${name} failed: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}

/** Prints what the api wrote during the measured part (LOG_LEVEL=warn), minus the inspector's notices. */
export function reportApiOutput(platform: Platform, during = 'the runs'): void {
  const written = platform.output
    .join('')
    .split('\n')
    .filter((line) => line.trim() && !/^(Debugger (listening|attached|ending)|For help, see)/.test(line));
  if (written.length) say(`the api wrote this during ${during} (LOG_LEVEL=warn):\n${written.join('\n').slice(0, 4000)}`);
}
