/**
 * bench/billing-report: the usage report and the finance CSV export over one million ledger lines,
 * each against PostgreSQL doing the same aggregation directly, measured in one run.
 *
 *   npm run bench:billing        (builds, then runs node dist/bench/billing-report.js)
 *
 * 1. `usageReport(groupBy: [MONTH, PROJECT, METER])` through GraphQL, against the single raw SQL
 *    `GROUP BY` of the same rows run with pg as the table owner (and, for the breakdown, as the
 *    api's role under row-level security).
 * 2. `GET /v1/usage/export.csv?groupBy=DAY,PROJECT,METER` (rows/s, bytes/s), against
 *    `psql -c "\copy (same SELECT) to stdout"` producing the same CSV, as the table owner and as
 *    the api's role under row-level security.
 * 3. The api process's peak RSS growth during each export (VmRSS polled every 20 ms).
 *
 * Environment: BENCH_EVENTS (1000000), BENCH_PROJECTS (24), BENCH_MONTHS (6), BENCH_ITERATIONS (7),
 * BENCH_EXPORT_ITERATIONS (3), BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres, a
 * superuser), BENCH_REDIS_URL (redis://127.0.0.1:6379), BENCH_APP_ROLE_PASSWORD.
 *
 * It prints figures and ratios; it asserts nothing about timings. See docs/BENCHMARKS.md.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Client } from 'pg';
import { Platform, sleep } from './support/platform';
import { numberFromEnv, reportApiOutput, runBenchmark, say } from './support/api-extras';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const APP_ROLE_PASSWORD = process.env.BENCH_APP_ROLE_PASSWORD ?? 'lutece_app_dev_password';

/** The default price book (src/config/config.ts DEFAULT_PRICE_BOOK), in micro-euros per unit. */
const GPU_PRICES: [string, number][] = [
  ['H100', 2200],
  ['A100', 1250],
  ['L40S', 520],
  ['L4', 230],
  ['T4', 150],
];

function withDatabase(url: string, database: string, user?: { name: string; password: string }): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (user) {
    parsed.username = user.name;
    parsed.password = encodeURIComponent(user.password);
  }
  return parsed.toString();
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** VmRSS of a process in bytes, from /proc. */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Polls VmRSS every 20 ms until stopped; returns the value before and the peak. */
function watchRss(pid: number): { stop: () => { before: number; peak: number; samples: number } } {
  const before = rssOf(pid);
  let peak = before;
  let samples = 1;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
      samples++;
    } catch {
      // the process is gone; the caller notices
    }
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, rssOf(pid));
      return { before, peak, samples: samples + 1 };
    },
  };
}

interface Seeded {
  token: string;
  tenantId: string;
  from: Date;
  to: Date;
}

/** Signs up and creates the projects through the API, then generates the ledger with one INSERT … SELECT. */
async function seed(platform: Platform, ownerUrl: string, owner: Client, events: number, projectCount: number, months: number): Promise<Seeded> {
  const signUp = await platform.graphql(
    'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }',
    { input: { email: `bench-billing-${Date.now()}@example.test`, password: 'correct horse battery staple', displayName: 'Bench', tenantName: 'Bench billing tenant' } },
  );
  const token: string | undefined = signUp.data?.signUp?.accessToken;
  if (!token) throw new Error(`signUp failed (${signUp.status}): ${signUp.text}`);
  const tenant = await platform.graphql('{ tenant { id } }', {}, token);
  const tenantId: string = tenant.data.tenant.id;
  for (let i = 1; i <= projectCount; i++) {
    const created = await platform.graphql(
      'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
      { input: { name: `Bench project ${String(i).padStart(2, '0')}`, dataClassification: 'INTERNAL' } },
      token,
    );
    if (!created.data?.createProject?.id) throw new Error(`createProject ${i} failed: ${created.text}`);
  }

  const now = new Date();
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, 1));
  const to = new Date(now.getTime() + 3_600_000);
  const gpuClasses = `ARRAY[${GPU_PRICES.map(([c]) => `'${c}'`).join(',')}]`;
  const gpuPrices = `ARRAY[${GPU_PRICES.map(([, p]) => p).join(',')}]::bigint[]`;
  // Meter by i % 4; GPU class, project and quantity from a multiplicative hash of i. Timestamps are
  // spread evenly from `from` to now. Prices are the default price book's; each amount is
  // quantity × price rounded half-up to the micro-euro, as the api writes it. Storage is
  // tenant-level (no project), as the hourly metering writes it.
  const sql = `
    WITH p AS (SELECT array_agg(id ORDER BY name) AS ids, count(*)::int AS n FROM projects WHERE tenant_id = $1),
    g AS (
      SELECT i, i % 4 AS m, (i::bigint * 2654435761) % 4294967296 AS h,
             $2::timestamptz + ((i - 1)::double precision / $4::int) * ($3::timestamptz - $2::timestamptz) AS at
        FROM generate_series(1, $4::int) AS i
    ),
    r AS (
      SELECT g.i, g.at,
             CASE g.m WHEN 0 THEN 'GPU_SECONDS' WHEN 1 THEN 'CPU_SECONDS' WHEN 2 THEN 'PREDICTIONS' ELSE 'STORAGE_GB_HOURS' END AS meter,
             CASE g.m WHEN 0 THEN (${gpuClasses})[(1 + (g.h / 7) % 5)::int] END AS gpu_class,
             CASE g.m WHEN 0 THEN (${gpuPrices})[(1 + (g.h / 7) % 5)::int] WHEN 1 THEN 12 WHEN 2 THEN 20 ELSE 40 END AS price,
             CASE g.m WHEN 0 THEN ((g.h % 3600000) + 1) / 1000.0
                      WHEN 1 THEN ((g.h % 900000) + 1) / 1000.0
                      WHEN 2 THEN ((g.h % 500) + 1)::numeric
                      ELSE ((g.h % 2000000) + 1) / 1000000.0 END AS quantity,
             CASE g.m WHEN 3 THEN NULL ELSE p.ids[(1 + (g.h / 13) % p.n)::int] END AS project_id,
             CASE g.m WHEN 0 THEN 'second' WHEN 1 THEN 'second' WHEN 2 THEN 'prediction' ELSE 'GB-hour' END AS unit,
             CASE g.m WHEN 0 THEN 'fine_tuning_job' WHEN 1 THEN 'fine_tuning_job' WHEN 2 THEN 'endpoint' ELSE 'storage' END AS source_type,
             'bench-source-' || ((g.h / 17) % 5000) AS source_id
        FROM g, p
    )
    INSERT INTO usage_events (id, tenant_id, project_id, meter, quantity, unit, gpu_class, source_type, source_id, occurred_at, details,
                              unit_price_micro, amount_micro, billing_period, adjustment)
    SELECT 'bench:' || r.i, $1, r.project_id, r.meter, r.quantity::numeric(20, 6), r.unit, r.gpu_class, r.source_type, r.source_id, r.at, '{}'::jsonb,
           r.price, round(r.quantity::numeric(20, 6) * r.price)::bigint, to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM'), false
      FROM r`;

  say(`generating ${fmt(events)} usage events for 1 tenant, ${projectCount} projects, 4 meters, ${GPU_PRICES.length} GPU classes, ${months} months + this one (one INSERT … SELECT generate_series)`);
  const progressClient = new Client({ connectionString: ownerUrl });
  let progress: NodeJS.Timeout | undefined;
  const started = process.hrtime.bigint();
  try {
    await progressClient.connect().catch(() => undefined);
    progress = setInterval(() => {
      progressClient
        .query(`SELECT pg_size_pretty(pg_total_relation_size('usage_events')) AS size`)
        .then((r) => say(`  … generating: ${(ms(started) / 1000).toFixed(0)} s, usage_events (with indexes) ${r.rows[0].size}`))
        .catch(() => undefined);
    }, 5000);
    const inserted = await owner.query(sql, [tenantId, from, now, events]);
    say(`inserted ${fmt(inserted.rowCount ?? 0)} rows in ${(ms(started) / 1000).toFixed(1)} s; ANALYZE`);
  } finally {
    clearInterval(progress);
    await progressClient.end().catch(() => undefined);
  }
  await owner.query('ANALYZE usage_events');
  const [{ size, total }] = (await owner.query(`SELECT pg_size_pretty(pg_total_relation_size('usage_events')) AS size, (SELECT sum(amount_micro) FROM usage_events)::text AS total`)).rows;
  say(`usage_events: ${size} with its indexes; total ${(Number(total) / 1e6).toFixed(2)} EUR`);
  return { token, tenantId, from, to };
}

/** The api's query for MONTH×PROJECT×METER, written out as one plain GROUP BY (see usage-report.query.ts). */
function rawGroupBySql(period: 'YYYY-MM' | 'YYYY-MM-DD'): string {
  return `SELECT to_char(u.occurred_at AT TIME ZONE 'UTC', '${period}') AS period, u.project_id, p.name AS project_name,
                 u.meter, u.gpu_class, u.unit, u.unit_price_micro, sum(u.quantity) AS quantity, sum(u.amount_micro) AS amount_micro
            FROM usage_events u LEFT JOIN projects p ON p.id = u.project_id
           WHERE u.tenant_id = $1 AND u.occurred_at >= $2 AND u.occurred_at < $3
           GROUP BY 1, u.project_id, p.name, u.meter, u.gpu_class, u.unit, u.unit_price_micro
           ORDER BY 1, p.name NULLS FIRST, u.project_id, u.meter, u.gpu_class NULLS FIRST, u.unit_price_micro, amount_micro DESC`;
}

/** The same rows as the CSV export, formatted by PostgreSQL: the `COPY … TO STDOUT` baseline. */
function copySql(tenantId: string, from: Date, to: Date): string {
  const inner = rawGroupBySql('YYYY-MM-DD')
    .replace('$1', `'${tenantId}'`)
    .replace('$2', `'${from.toISOString()}'`)
    .replace('$3', `'${to.toISOString()}'`);
  return `SELECT period, project_id, project_name, meter, gpu_class, quantity, unit,
                 (unit_price_micro / 1000000.0)::numeric(20, 6) AS unit_price_eur, (amount_micro / 1000000.0)::numeric(30, 6) AS amount_eur
            FROM (${inner}) AS report`.replace(/\s+/g, ' ');
}

interface Timing {
  label: string;
  runs: number[];
  rows: number;
}

async function timeReport(platform: Platform, seeded: Seeded, iterations: number): Promise<Timing & { total: string; rowsData: any[] }> {
  const query = 'query($input: UsageReportInput!) { usageReport(input: $input) { rows { period projectId projectName meter gpuClass quantity unit unitPriceEur amountEur } totalEur } }';
  const variables = { input: { from: seeded.from.toISOString(), to: seeded.to.toISOString(), groupBy: ['MONTH', 'PROJECT', 'METER'] } };
  const runs: number[] = [];
  let last: any;
  for (let i = 0; i <= iterations; i++) {
    const start = process.hrtime.bigint();
    const result = await platform.graphql(query, variables, seeded.token);
    const elapsed = ms(start);
    if (result.errors || !result.data) throw new Error(`usageReport failed (${result.status}): ${result.text.slice(0, 2000)}`);
    last = result.data.usageReport;
    if (i === 0) say(`  usageReport warm-up: ${elapsed.toFixed(0)} ms, ${last.rows.length} rows, ${fmt(result.text.length)} bytes`);
    else {
      runs.push(elapsed);
      say(`  usageReport ${i}/${iterations}: ${elapsed.toFixed(0)} ms`);
    }
  }
  return { label: 'usageReport MONTH×PROJECT×METER (GraphQL, api)', runs, rows: last.rows.length, total: last.totalEur, rowsData: last.rows };
}

async function timeRaw(label: string, client: Client, seeded: Seeded, iterations: number, setup?: string): Promise<Timing & { rowsData: any[] }> {
  const runs: number[] = [];
  let rows: any[] = [];
  for (let i = 0; i <= iterations; i++) {
    const start = process.hrtime.bigint();
    if (setup) await client.query('BEGIN');
    if (setup) await client.query(setup, [seeded.tenantId]);
    const result = await client.query(rawGroupBySql('YYYY-MM'), [seeded.tenantId, seeded.from, seeded.to]);
    if (setup) await client.query('COMMIT');
    const elapsed = ms(start);
    rows = result.rows;
    if (i > 0) runs.push(elapsed);
    say(`  ${label} ${i === 0 ? 'warm-up' : `${i}/${iterations}`}: ${elapsed.toFixed(0)} ms`);
  }
  return { label, runs, rows: rows.length, rowsData: rows };
}

interface ExportFigures {
  label: string;
  runs: number[];
  rows: number;
  bytes: number;
  sha256: string;
  rssGrowth?: number[];
  rssBefore?: number[];
}

async function timeApiExport(platform: Platform, seeded: Seeded, iterations: number): Promise<ExportFigures> {
  const url = `${platform.baseUrl}/v1/usage/export.csv?${new URLSearchParams({ from: seeded.from.toISOString(), to: seeded.to.toISOString(), groupBy: 'DAY,PROJECT,METER' })}`;
  const figures: ExportFigures = { label: 'api GET /v1/usage/export.csv', runs: [], rows: 0, bytes: 0, sha256: '', rssGrowth: [], rssBefore: [] };
  for (let i = 0; i <= iterations; i++) {
    const watch = watchRss(platform.pid);
    const start = process.hrtime.bigint();
    const response = await fetch(url, { headers: { authorization: `Bearer ${seeded.token}` } });
    if (response.status !== 200 || !response.body) throw new Error(`export failed: ${response.status} ${await response.text()}`);
    const hash = createHash('sha256');
    let bytes = 0;
    let lines = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      hash.update(chunk);
      for (let j = 0; j < chunk.length; j++) if (chunk[j] === 10) lines++;
    }
    const elapsed = ms(start);
    const rss = watch.stop();
    figures.rows = lines - 1;
    figures.bytes = bytes;
    figures.sha256 = hash.digest('hex');
    const growth = rss.peak - rss.before;
    say(`  api export ${i === 0 ? 'warm-up' : `${i}/${iterations}`}: ${elapsed.toFixed(0)} ms, ${fmt(lines - 1)} rows, ${fmt(bytes)} bytes; RSS ${(rss.before / 2 ** 20).toFixed(1)} → peak ${(rss.peak / 2 ** 20).toFixed(1)} MB (+${(growth / 2 ** 20).toFixed(1)} MB, ${rss.samples} samples)`);
    // Every export counts for memory, the first one after start-up most of all.
    figures.rssGrowth!.push(growth);
    figures.rssBefore!.push(rss.before);
    if (i > 0) figures.runs.push(elapsed);
  }
  return figures;
}

async function timePsqlCopy(label: string, url: string, seeded: Seeded, iterations: number, setup?: string): Promise<ExportFigures> {
  const command = `\\copy (${copySql(seeded.tenantId, seeded.from, seeded.to)}) to stdout with (format csv, header)`;
  const figures: ExportFigures = { label, runs: [], rows: 0, bytes: 0, sha256: '' };
  for (let i = 0; i <= iterations; i++) {
    const start = process.hrtime.bigint();
    const { bytes, lines, sha256 } = await new Promise<{ bytes: number; lines: number; sha256: string }>((resolve, reject) => {
      const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, ...(setup ? ['-c', setup] : []), '-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
      const hash = createHash('sha256');
      let count = 0;
      let newlines = 0;
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        count += chunk.length;
        hash.update(chunk);
        for (let j = 0; j < chunk.length; j++) if (chunk[j] === 10) newlines++;
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve({ bytes: count, lines: newlines, sha256: hash.digest('hex') }) : reject(new Error(`psql exited with ${code}: ${stderr}`))));
    });
    const elapsed = ms(start);
    figures.rows = lines - 1;
    figures.bytes = bytes;
    figures.sha256 = sha256;
    say(`  ${label} ${i === 0 ? 'warm-up' : `${i}/${iterations}`}: ${elapsed.toFixed(0)} ms, ${fmt(lines - 1)} rows, ${fmt(bytes)} bytes`);
    if (i > 0) figures.runs.push(elapsed);
  }
  return figures;
}

/** The node types of a plan, outermost first, with the parallel workers it plans. */
function planSummary(plan: any): string {
  const nodes: string[] = [];
  let workers = 0;
  const walk = (node: any) => {
    nodes.push(node['Node Type'] + (node['Relation Name'] ? ` on ${node['Relation Name']}` : ''));
    workers = Math.max(workers, node['Workers Planned'] ?? 0);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan);
  return `${nodes.join(' → ')}; parallel workers planned: ${workers}`;
}

/** Checks the GraphQL rows against the raw GROUP BY: same rows, same order, same integers. */
function compareReport(gql: any[], raw: any[]): string {
  if (gql.length !== raw.length) return `DIFFERENT: ${gql.length} GraphQL rows, ${raw.length} raw rows`;
  for (let i = 0; i < gql.length; i++) {
    const g = gql[i];
    const r = raw[i];
    const amount = BigInt(g.amountEur.replace('.', ''));
    if (g.period !== r.period || (g.projectId ?? null) !== r.project_id || g.meter !== r.meter || (g.gpuClass ?? null) !== r.gpu_class || amount !== BigInt(r.amount_micro)) {
      return `DIFFERENT at row ${i}: ${JSON.stringify(g)} vs ${JSON.stringify(r)}`;
    }
  }
  return 'identical (every row, in order, to the micro-euro)';
}

function printTables(report: Timing, raws: Timing[], exports: ExportFigures[], events: number): void {
  const timingRows = [report, ...raws];
  const width = Math.max(...timingRows.map((t) => t.label.length), ...exports.map((e) => e.label.length));
  const cell = (s: string, w: number) => s.padStart(w);
  const out: string[] = ['', `usageReport over ${fmt(events)} ledger lines (ms; ${report.runs.length} measured runs each, after one warm-up):`];
  out.push(`  ${'target'.padEnd(width)}${cell('rows', 8)}${cell('min', 9)}${cell('median', 9)}${cell('max', 9)}${cell('vs raw', 9)}`);
  const baseline = median(raws[0].runs);
  for (const t of timingRows) {
    out.push(`  ${t.label.padEnd(width)}${cell(fmt(t.rows), 8)}${cell(Math.min(...t.runs).toFixed(0), 9)}${cell(median(t.runs).toFixed(0), 9)}${cell(Math.max(...t.runs).toFixed(0), 9)}${cell((median(t.runs) / baseline).toFixed(2), 9)}`);
  }
  out.push('', `CSV export grouped by DAY×PROJECT×METER (${exports[0].runs.length} measured runs each, after one warm-up):`);
  out.push(`  ${'target'.padEnd(width)}${cell('rows', 8)}${cell('bytes', 12)}${cell('median ms', 11)}${cell('rows/s', 10)}${cell('MB/s', 8)}`);
  for (const e of exports) {
    const seconds = median(e.runs) / 1000;
    out.push(`  ${e.label.padEnd(width)}${cell(fmt(e.rows), 8)}${cell(fmt(e.bytes), 12)}${cell(median(e.runs).toFixed(0), 11)}${cell(fmt(e.rows / seconds), 10)}${cell((e.bytes / seconds / 1e6).toFixed(2), 8)}`);
  }
  const [api, copy, copyRls] = exports;
  const growth = Math.max(...api.rssGrowth!);
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  out.push(
    '',
    `ratio usageReport / raw GROUP BY (median): ${(median(report.runs) / baseline).toFixed(2)}  (target: within 3x)`,
    `ratio usageReport / raw GROUP BY as lutece_app under RLS (median): ${(median(report.runs) / median(raws[1].runs)).toFixed(2)}`,
    `ratio export rows/s api / psql \\copy as table owner (median): ${(api.rows / median(api.runs) / (copy.rows / median(copy.runs))).toFixed(2)}  (the psql side includes starting psql)`,
    `ratio export rows/s api / psql \\copy as lutece_app under RLS (median): ${(api.rows / median(api.runs) / (copyRls.rows / median(copyRls.runs))).toFixed(2)}`,
    `peak RSS growth of the api during an export: ${mb(growth)} MB max over ${api.rssGrowth!.length} exports (first after start-up ${mb(api.rssGrowth![0])} MB, then ${api.rssGrowth!.slice(1).map(mb).join(', ')} MB; RSS before each: ${api.rssBefore!.map((b) => (b / 2 ** 20).toFixed(0)).join(', ')} MB)  (target: < 100 MB)`,
    `CSV bodies: api ${api.sha256.slice(0, 16)}…, psql owner ${copy.sha256.slice(0, 16)}…, psql RLS ${copyRls.sha256.slice(0, 16)}… → ${api.sha256 === copy.sha256 && api.sha256 === copyRls.sha256 ? 'byte-identical' : 'DIFFERENT'}`,
    '',
  );
  process.stdout.write(out.join('\n') + '\n');
}

async function main(): Promise<void> {
  const events = numberFromEnv('BENCH_EVENTS', 1_000_000, 1000);
  const projectCount = numberFromEnv('BENCH_PROJECTS', 24, 1);
  const months = numberFromEnv('BENCH_MONTHS', 6, 1);
  const iterations = numberFromEnv('BENCH_ITERATIONS', 7, 1);
  const exportIterations = numberFromEnv('BENCH_EXPORT_ITERATIONS', 3, 1);
  const cpu = cpus();
  say(`node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  let platform: Platform | undefined;
  const clients: Client[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      if (platform) await platform.stop().catch((error: Error) => say(`stopping the platform: ${error.message}`));
    })());
  process.once('SIGINT', () => {
    say('interrupted, cleaning up');
    void cleanUp().finally(() => process.exit(130));
  });

  try {
    say('starting the platform (dist/src/main.js, NODE_ENV=production, fresh database, migrations)');
    platform = await Platform.start({ adminDatabaseUrl: ADMIN_URL, redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', appRolePassword: APP_ROLE_PASSWORD, nodeArgs: [], say });
    // Platform keeps its database name to itself; the benchmark needs it for its owner-side work.
    const databaseName = (platform as unknown as { databaseName: string }).databaseName;
    const ownerUrl = withDatabase(ADMIN_URL, databaseName);
    const owner = new Client({ connectionString: ownerUrl });
    const appUrl = withDatabase(ADMIN_URL, databaseName, { name: 'lutece_app', password: APP_ROLE_PASSWORD });
    const appRole = new Client({ connectionString: appUrl });
    clients.push(owner, appRole);
    await owner.connect();
    await appRole.connect();
    say(`platform ready at ${platform.baseUrl} (pid ${platform.pid}), database ${databaseName}`);

    const seeded = await seed(platform, ownerUrl, owner, events, projectCount, months);

    say(`(1) usageReport MONTH×PROJECT×METER over ${seeded.from.toISOString().slice(0, 10)} … ${seeded.to.toISOString().slice(0, 10)}`);
    const report = await timeReport(platform, seeded, iterations);
    const raw = await timeRaw('raw GROUP BY (pg, table owner)', owner, seeded, iterations);
    const rls = await timeRaw('raw GROUP BY (pg, lutece_app + RLS)', appRole, seeded, iterations, `SELECT set_config('app.tenant_id', $1, true)`);
    for (const [label, client, setup] of [
      ['table owner', owner, undefined],
      ['lutece_app + RLS', appRole, `SELECT set_config('app.tenant_id', $1, true)`],
    ] as const) {
      if (setup) await client.query('BEGIN');
      if (setup) await client.query(setup, [seeded.tenantId]);
      const plan = await client.query(`EXPLAIN (FORMAT JSON) ${rawGroupBySql('YYYY-MM')}`, [seeded.tenantId, seeded.from, seeded.to]);
      if (setup) await client.query('COMMIT');
      say(`  plan as ${label}: ${planSummary(plan.rows[0]['QUERY PLAN'][0].Plan)}`);
    }
    say(`  GraphQL vs raw rows: ${compareReport(report.rowsData, raw.rowsData)}`);
    say(`  GraphQL vs RLS rows: ${compareReport(report.rowsData, rls.rowsData)}`);

    say('(2)+(3) CSV export DAY×PROJECT×METER, RSS of the api polled every 20 ms');
    const apiExport = await timeApiExport(platform, seeded, exportIterations);
    const copy = await timePsqlCopy('psql \\copy (same SELECT), table owner', ownerUrl, seeded, exportIterations);
    const copyRls = await timePsqlCopy('psql \\copy (same SELECT), lutece_app + RLS', appUrl, seeded, exportIterations, `SET app.tenant_id = '${seeded.tenantId}'`);

    if (platform.exited) throw new Error(`the api exited during the run:\n${platform.output.join('')}`);
    printTables(report, [raw, rls], [apiExport, copy, copyRls], events);
    say(`load average after the runs: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    reportApiOutput(platform);
    await sleep(0);
  } finally {
    say('cleaning up (api process, database, Redis keys)');
    await cleanUp();
  }
}

runBenchmark('billing-report', main);
