/**
 * bench/dataset-upload: MB/s of a large CSV upload through `POST /v1/datasets/{id}/versions`
 * (parsing, validation, pseudonymisation of a PII column, profiling, hashing, AES-256-GCM encryption,
 * fsync'd write), against a raw `fs` copy of the same bytes with SHA-256 in the same run, and the
 * api's peak RSS growth during the upload.
 *
 *   npm run bench:upload               (builds, then runs node dist/bench/dataset-upload.js)
 *
 * Environment: BENCH_UPLOAD_MB (256: size of the generated CSV in MB of 10^6 bytes),
 * BENCH_TMP_DIR (the OS temporary directory: where the CSV and the baseline's copy go),
 * BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres, a superuser),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379), BENCH_APP_ROLE_PASSWORD, BENCH_API_NODE_ARGS (extra node flags for the api), and BENCH_PROFILE_DIR (starts
 * the api with --inspect, CPU-profiles it during the upload and samples its V8 heap every 100 ms;
 * the profiler slows the api, so don't report MB/s from such a run).
 *
 * It prints figures and a ratio; it asserts nothing about timings. See docs/BENCHMARKS.md.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { machineBusyMs, processCpuMs } from './support/cpu';
import { fmt, MB, numberFromEnv, reportApiOutput, rssOf, runBenchmark, say, seconds, startPlatformWith, watchRss } from './support/api-extras';
import type { Platform } from './support/platform';
import { RemoteProfiler } from './support/profiler';
import { seededRandom as random } from '../gpu-worker/src/random';

const CUTS = ['Fair', 'Good', 'Very Good', 'Premium', 'Ideal'];
const COLORS = ['D', 'E', 'F', 'G', 'H', 'I', 'J'];
const CLARITIES = ['I1', 'SI2', 'SI1', 'VS2', 'VS1', 'VVS2', 'VVS1', 'IF'];
const HEADER = 'customer_id,carat,cut,color,clarity,depth,table,price,x,y,z\n';
const PII_COLUMNS = ['customer_id'];


/** A diamonds-like row: a customer id (declared PII), 7 numeric and 3 categorical columns, ~0.5 % blanks. */
function rowMaker(seed: number): () => string {
  const next = random(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(next() * values.length)];
  const blankOr = (value: string) => (next() < 0.005 ? '' : value);
  return () => {
    const carat = 0.2 + next() * next() * 3;
    const x = Math.cbrt(carat) * 5.8 + (next() - 0.5) * 0.2;
    const price = Math.round(326 + carat * carat * 3000 * (0.6 + next() * 0.8));
    return (
      `CUST-${String(Math.floor(next() * 1e10)).padStart(10, '0')},${carat.toFixed(2)},${pick(CUTS)},${pick(COLORS)},${pick(CLARITIES)},` +
      `${blankOr((58 + next() * 6).toFixed(1))},${Math.round(53 + next() * 8)},${price},${x.toFixed(2)},${(x + (next() - 0.5) * 0.1).toFixed(2)},${blankOr((x * 0.62).toFixed(2))}\n`
    );
  };
}

/** Streams rows to `file` until it holds at least `targetBytes`; returns the row count. */
async function generateCsv(file: string, targetBytes: number, seed: number): Promise<{ rows: number; bytes: number }> {
  const out = createWriteStream(file);
  const nextRow = rowMaker(seed);
  let bytes = Buffer.byteLength(HEADER);
  let rows = 0;
  let nextReport = 0.1;
  const started = process.hrtime.bigint();
  const write = (chunk: string) => (out.write(chunk) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve)));
  await write(HEADER);
  while (bytes < targetBytes) {
    let chunk = '';
    while (chunk.length < 1 << 20 && bytes + chunk.length < targetBytes) {
      chunk += nextRow();
      rows++;
    }
    bytes += chunk.length; // ASCII only: one byte per character
    await write(chunk);
    if (bytes / targetBytes >= nextReport) {
      say(`  generating: ${Math.floor((100 * bytes) / targetBytes)} % (${fmt(bytes / MB)} MB, ${fmt(rows)} rows, ${fmt(bytes / MB / seconds(started), 1)} MB/s)`);
      nextReport += 0.1;
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return { rows, bytes };
}

/** The baseline: read the file, SHA-256 it and write a copy, fsync'd like the platform's objects. */
async function rawCopyWithHash(source: string, target: string): Promise<{ seconds: number; sha256: string }> {
  const started = process.hrtime.bigint();
  const hash = createHash('sha256');
  const handle = await open(target, 'w');
  try {
    for await (const chunk of createReadStream(source)) {
      hash.update(chunk as Buffer);
      const { bytesWritten } = await handle.write(chunk as Buffer);
      if (bytesWritten !== (chunk as Buffer).length) throw new Error('short write');
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { seconds: seconds(started), sha256: hash.digest('hex') };
}

interface UploadResult {
  status: number;
  body: any;
  text: string;
  seconds: number;
  /** Time until the last byte of the body had been handed to the socket. */
  sentSeconds: number;
}

/** POSTs the file as a stream (Content-Length set, nothing buffered), with a progress line every 10 %. */
function upload(platform: Platform, path: string, token: string, file: string, size: number, onProgress: (sent: number, elapsed: number) => void): Promise<UploadResult> {
  const url = new URL(path, platform.baseUrl);
  const started = process.hrtime.bigint();
  let sent = 0;
  let sentSeconds = 0;
  return new Promise<UploadResult>((resolve, reject) => {
    const req = request(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers: { 'content-type': 'text/csv', 'content-length': String(size), authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: any;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body, text, seconds: seconds(started), sentSeconds: sentSeconds || seconds(started) });
        });
      },
    );
    req.on('error', reject);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        onProgress(sent, seconds(started));
        callback(null, chunk);
      },
      flush(callback) {
        sentSeconds = seconds(started);
        callback();
      },
    });
    pipeline(createReadStream(file), counter, req).catch(reject);
  });
}

async function main(): Promise<void> {
  const targetMb = numberFromEnv('BENCH_UPLOAD_MB', 256, 1);
  const workDir = mkdtempSync(join(process.env.BENCH_TMP_DIR || tmpdir(), 'lutece-bench-upload-'));
  const csvFile = join(workDir, 'diamonds.csv');
  const copyFile = join(workDir, 'diamonds-copy.csv');
  const cpu = cpus();
  say(`node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (targetMb < 200) say(`note: BENCH_UPLOAD_MB=${targetMb} is below the 200 MB the issue asks for`);

  let platform: Platform | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      rmSync(workDir, { recursive: true, force: true });
      if (platform) await platform.stop().catch((error: Error) => say(`stopping the platform: ${error.message}`));
    })());
  process.once('SIGINT', () => {
    say('interrupted, cleaning up');
    void cleanUp().finally(() => process.exit(130));
  });

  try {
    say(`generating a diamonds-like CSV of ${targetMb} MB in ${workDir} (streamed, seeded)`);
    const genStarted = process.hrtime.bigint();
    const generated = await generateCsv(csvFile, targetMb * MB, 20260);
    const size = statSync(csvFile).size;
    if (size !== generated.bytes) throw new Error(`generated ${generated.bytes} bytes but the file has ${size}`);
    say(`generated ${fmt(size)} bytes (${fmt(size / MB, 1)} MB), ${fmt(generated.rows)} data rows, in ${seconds(genStarted).toFixed(1)} s`);

    say('baseline 1/2: read + SHA-256 + write a copy + fsync');
    const base1 = await rawCopyWithHash(csvFile, copyFile);
    rmSync(copyFile, { force: true });
    say(`  ${fmt(size / MB / base1.seconds, 1)} MB/s (${base1.seconds.toFixed(2)} s), sha256 ${base1.sha256.slice(0, 16)}…`);

    const maxUpload = Math.max(512 * 1024 * 1024, size + 64 * 1024 * 1024);
    say(`starting the platform (dist/src/main.js, NODE_ENV=production, fresh database, WORKERS=0, MAX_UPLOAD_BYTES=${maxUpload}${process.env.BENCH_API_NODE_ARGS ? `, node ${process.env.BENCH_API_NODE_ARGS}` : ''})`);
    const profileDir = process.env.BENCH_PROFILE_DIR;
    platform = await startPlatformWith({ MAX_UPLOAD_BYTES: String(maxUpload), WORKERS: '0' }, [
      ...(process.env.BENCH_API_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
      ...(profileDir ? ['--inspect=127.0.0.1:0'] : []),
    ]);
    const signUp = await platform.graphql('mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }', {
      input: { email: `bench-upload-${Date.now()}@example.test`, password: 'correct horse battery staple', displayName: 'Bench', tenantName: 'Bench upload tenant' },
    });
    const token: string | undefined = signUp.data?.signUp?.accessToken;
    if (!token) throw new Error(`signUp failed (${signUp.status}): ${signUp.text}`);
    const project = await platform.graphql('mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }', { input: { name: 'Bench upload', dataClassification: 'CONFIDENTIAL' } }, token);
    const projectId: string | undefined = project.data?.createProject?.id;
    if (!projectId) throw new Error(`createProject failed: ${project.text}`);
    const createDataset = async (name: string) => {
      const created = await platform!.graphql(
        'mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }',
        { input: { projectId, name, format: 'CSV', purpose: 'upload benchmark', legalBasis: 'LEGITIMATE_INTERESTS', containsPersonalData: true, piiColumns: PII_COLUMNS, retentionDays: 30 } },
        token,
      );
      const id: string | undefined = created.data?.createDataset?.id;
      if (!id) throw new Error(`createDataset failed: ${created.text}`);
      return id;
    };

    // A small upload first, so that the measured one does not pay for first-use work (tenant keys,
    // lazily compiled code paths), and to check the endpoint answers 201.
    const warmFile = join(workDir, 'warm-up.csv');
    const warm = await generateCsv(warmFile, 200_000, 7);
    const warmDataset = await createDataset('diamonds warm-up');
    const rssBeforeWarmUp = rssOf(platform.pid);
    const warmResult = await upload(platform, `/v1/datasets/${warmDataset}/versions`, token, warmFile, statSync(warmFile).size, () => undefined);
    if (warmResult.status !== 201) throw new Error(`warm-up upload failed (${warmResult.status}): ${warmResult.text}`);
    say(`warm-up upload: ${fmt(warm.rows)} rows → 201; api RSS ${fmt(rssBeforeWarmUp / MB, 1)} MB before it, ${fmt(rssOf(platform.pid) / MB, 1)} MB after`);

    const datasetId = await createDataset('diamonds');
    say(`uploading ${fmt(size / MB, 1)} MB to POST /v1/datasets/${datasetId}/versions (text/csv, streamed from the file)`);
    let profiler: RemoteProfiler | undefined;
    let heapTimer: NodeJS.Timeout | undefined;
    const heap = { before: 0, peakUsed: 0, peakTotal: 0, samples: 0 };
    if (profileDir) {
      if (!platform.inspectorUrl) throw new Error('BENCH_PROFILE_DIR is set but the api printed no inspector URL');
      profiler = await RemoteProfiler.connect(platform.inspectorUrl);
      const usage = () => profiler!.send<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage');
      const first = await usage();
      heap.before = first.totalSize;
      heap.peakUsed = first.usedSize;
      heap.peakTotal = first.totalSize;
      heapTimer = setInterval(() => {
        usage()
          .then((u) => {
            heap.peakUsed = Math.max(heap.peakUsed, u.usedSize);
            heap.peakTotal = Math.max(heap.peakTotal, u.totalSize);
            heap.samples++;
          })
          .catch(() => undefined);
      }, 100);
      await profiler.start();
      say(`profiling the api during the upload (its MB/s are skewed by the profiler); V8 heap ${fmt(first.usedSize / MB, 1)} MB used of ${fmt(first.totalSize / MB, 1)} MB`);
    }
    const rss = watchRss(platform.pid, 20);
    const apiCpuBefore = processCpuMs(platform.pid);
    const benchCpuBefore = processCpuMs(process.pid);
    const machineBefore = machineBusyMs();
    let nextReport = 0.1;
    const result = await upload(platform, `/v1/datasets/${datasetId}/versions`, token, csvFile, size, (sent, elapsed) => {
      if (sent / size >= nextReport) {
        say(`  upload: ${Math.floor((100 * sent) / size)} % sent (${fmt(sent / MB)} MB, ${fmt(sent / MB / elapsed, 1)} MB/s so far), api RSS ${fmt(rss.current() / MB, 1)} MB, peak +${fmt((rss.peak() - rss.before) / MB, 1)} MB`);
        nextReport += 0.1;
      }
    });
    const memory = rss.stop();
    if (profiler) {
      clearInterval(heapTimer);
      const { file, summary } = await profiler.stop(profileDir!, `api-upload-${Date.now()}`);
      profiler.close();
      say(`api CPU profile written to ${file}; self time by package:\n${summary}`);
      say(`api V8 heap during the upload: total ${fmt(heap.before / MB, 1)} MB before, peak total ${fmt(heap.peakTotal / MB, 1)} MB (+${fmt((heap.peakTotal - heap.before) / MB, 1)} MB), peak used ${fmt(heap.peakUsed / MB, 1)} MB (${heap.samples} samples every 100 ms)`);
    }
    const apiCpuMs = (processCpuMs(platform.pid) ?? 0) - (apiCpuBefore ?? 0);
    const benchCpuMs = (processCpuMs(process.pid) ?? 0) - (benchCpuBefore ?? 0);
    // Everything else the machine did meanwhile (other people's work, PostgreSQL, the OS), in % of all cores.
    const machineMs = (machineBusyMs() ?? 0) - (machineBefore ?? 0);
    const othersPercent = (100 * Math.max(0, machineMs - apiCpuMs - benchCpuMs)) / (result.seconds * 1000 * cpu.length);
    if (result.status !== 201) throw new Error(`upload failed (${result.status}): ${result.text.slice(0, 2000)}`);
    const version = result.body;
    if (Number(version.rowCount) !== generated.rows) throw new Error(`the api counted ${version.rowCount} rows, the file has ${generated.rows}`);
    if (JSON.stringify(version.pseudonymizedColumns) !== JSON.stringify(PII_COLUMNS)) throw new Error(`unexpected pseudonymizedColumns: ${JSON.stringify(version.pseudonymizedColumns)}`);
    say(`201 after ${result.seconds.toFixed(2)} s (last byte sent at ${result.sentSeconds.toFixed(2)} s): version ${version.version}, ${fmt(Number(version.rowCount))} rows, stored plaintext ${fmt(Number(version.sizeBytes) / MB, 1)} MB, ${version.columns.length} columns profiled, ${version.warnings.length} warnings`);

    say('baseline 2/2: read + SHA-256 + write a copy + fsync');
    const base2 = await rawCopyWithHash(csvFile, copyFile);
    rmSync(copyFile, { force: true });
    say(`  ${fmt(size / MB / base2.seconds, 1)} MB/s (${base2.seconds.toFixed(2)} s)`);

    if (platform.exited) throw new Error(`the api exited during the run:\n${platform.output.join('')}`);
    const platformMbps = size / MB / result.seconds;
    const baseline = [size / MB / base1.seconds, size / MB / base2.seconds];
    const baselineMean = (baseline[0] + baseline[1]) / 2;
    const growth = memory.peak - memory.before;
    const lines = [
      '',
      `Results (${fmt(size / MB, 1)} MB, ${fmt(generated.rows)} rows, MB = 10^6 bytes, ${cpu.length} CPUs):`,
      `  platform upload (POST → 201)          ${fmt(platformMbps, 1).padStart(8)} MB/s   ${result.seconds.toFixed(2)} s`,
      `  baseline fs read+SHA-256+write+fsync  ${fmt(baseline[0], 1).padStart(8)} MB/s before, ${fmt(baseline[1], 1)} MB/s after (mean ${fmt(baselineMean, 1)})`,
      `  ratio platform/baseline               ${(platformMbps / baselineMean).toFixed(4)}   (the baseline is ${(baselineMean / platformMbps).toFixed(1)}x faster)`,
      `  api RSS: ${fmt(memory.before / MB, 1)} MB before, peak ${fmt(memory.peak / MB, 1)} MB, ${fmt(memory.after / MB, 1)} MB at the 201 → peak growth ${fmt(growth / MB, 1)} MB (${fmt(growth / 1048576, 1)} MiB; ${memory.samples} samples every 20 ms)`,
      `  api CPU during the upload: ${(apiCpuMs / 1000).toFixed(1)} s over ${result.seconds.toFixed(1)} s of wall time (${fmt((100 * apiCpuMs) / 1000 / result.seconds)} % of one core); this process (sending the file): ${(benchCpuMs / 1000).toFixed(1)} s; other processes: ${fmt(othersPercent)} % of the machine`,
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
    say(`load average after the run: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    reportApiOutput(platform, 'the run');
  } finally {
    say('cleaning up (generated files, api process, database, Redis keys, storage directory)');
    await cleanUp();
  }
}

runBenchmark('dataset-upload', main);
