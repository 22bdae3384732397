/**
 * bench/api-overhead: requests/s of an authenticated `projects(first: 20)` through the whole
 * platform (authentication, tenant transaction, row-level security, CASL), against a bare
 * NestJS + Apollo resolver that returns the same 20 projects from memory, measured in one run.
 *
 *   npm run bench                      (builds, then runs node dist/bench/api-overhead.js)
 *
 * Environment: BENCH_CONNECTIONS (10), BENCH_DURATION seconds (10), BENCH_WARMUP seconds (5),
 * BENCH_BREAKDOWN (1; 0 skips the four breakdown rows), BENCH_AUTOCANNON_WORKERS (1),
 * BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres, a superuser),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379), BENCH_APP_ROLE_PASSWORD, BENCH_API_NODE_ARGS, and
 * BENCH_PROFILE_DIR (CPU-profiles the api during the platform projects run; skews its figures).
 *
 * It prints figures and a ratio; it asserts nothing about timings. See docs/BENCHMARKS.md.
 */
import './support/production-env';
import { cpus, loadavg } from 'node:os';
import { BareApp, BareProjectData, startBareApp } from './support/bare-app';
import { CpuSources, mainThreadCpuMs, processCpuMs } from './support/cpu';
import { LoadFigures, LoadSettings, LoadTarget, measure, MeasureHooks } from './support/load';
import { Platform } from './support/platform';
import { numberFromEnv, reportApiOutput, runBenchmark, say } from './support/api-extras';
import { RemoteProfiler } from './support/profiler';

const PROJECT_COUNT = 20;
const PROJECTS_QUERY =
  'query BenchProjects { projects(first: 20) { edges { cursor node { id name description dataClassification archived createdAt } } pageInfo { hasNextPage endCursor } totalCount } }';
const CLASSIFICATIONS = ['PUBLIC', 'INTERNAL', 'CONFIDENTIAL', 'HEALTH'];

interface ProjectsPayload {
  projects: {
    edges: { cursor: string; node: { id: string; name: string; description: string | null; dataClassification: string; archived: boolean; createdAt: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    totalCount: number;
  };
}

/** Signs up (the user becomes OWNER of a new tenant) and creates the projects, all through the API. */
async function seed(platform: Platform): Promise<string> {
  const signUp = await platform.graphql(
    'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }',
    { input: { email: `bench-${Date.now()}@example.test`, password: 'correct horse battery staple', displayName: 'Bench', tenantName: 'Bench tenant' } },
  );
  const token: string | undefined = signUp.data?.signUp?.accessToken;
  if (signUp.status !== 200 || !token) throw new Error(`signUp failed (${signUp.status}): ${signUp.text}`);
  for (let i = 1; i <= PROJECT_COUNT; i++) {
    const n = String(i).padStart(2, '0');
    const created = await platform.graphql(
      'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
      {
        input: {
          name: `Bench project ${n}`,
          description: i % 5 === 0 ? null : `Project ${n} of the api-overhead benchmark`,
          dataClassification: CLASSIFICATIONS[i % CLASSIFICATIONS.length],
        },
      },
      token,
    );
    if (created.status !== 200 || !created.data?.createProject?.id) throw new Error(`createProject ${n} failed (${created.status}): ${created.text}`);
  }
  return token;
}

/** One request, checked, whose exact body becomes what every benchmark response must equal. */
async function reference(platform: Platform, label: string, query: string, token?: string): Promise<LoadTarget> {
  const cpu: CpuSources = { server: () => processCpuMs(platform.pid), serverInThisProcess: false, postgresPids: () => platform.postgresBackendPids() };
  const result = await platform.graphql(query, {}, token);
  if (result.status !== 200 || result.errors || !result.data) throw new Error(`${label}: reference request failed (${result.status}): ${result.text}`);
  return {
    label,
    url: `${platform.baseUrl}/graphql`,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables: {} }),
    expectBody: result.text,
    cpu,
  };
}

function toBareData(payload: ProjectsPayload): BareProjectData[] {
  return payload.projects.edges.map(({ cursor, node }) => ({
    cursor,
    node: { ...node, archivedAt: null, createdAt: new Date(node.createdAt), updatedAt: new Date(node.createdAt) },
  }));
}

function printTable(bare: LoadFigures, platform: LoadFigures, others: LoadFigures[], settings: LoadSettings): void {
  const rows = [bare, platform, ...others];
  const width = Math.max(...rows.map((r) => r.label.length), 6);
  const ms = (value?: number) => (value === undefined ? '-' : value.toFixed(2));
  const header = ['req/s', 'p50 ms', 'p99 ms', 'vs bare', 'server', 'postgres', 'autocannon', 'others'];
  const line = (label: string, cells: string[]) => `  ${label.padEnd(width)}` + cells.map((c, i) => c.padStart(Math.max(header[i].length, 6) + 2)).join('');
  const out = [
    '',
    `Results: ${settings.connections} connections, ${settings.durationSeconds} s each after ${settings.warmupSeconds} s of warm-up, ${cpus().length} CPUs.`,
    'server/postgres/autocannon: CPU ms per request; others: % of the machine used by other processes meanwhile.',
    line('target', header),
    line('-'.repeat(width), header.map((h) => '-'.repeat(Math.max(h.length, 6)))),
    ...rows.map((r) =>
      line(r.label, [
        r.requestsPerSecond.toFixed(0),
        r.p50.toFixed(0),
        r.p99.toFixed(0),
        (r.requestsPerSecond / bare.requestsPerSecond).toFixed(3),
        ms(r.serverCpuMs),
        ms(r.postgresCpuMs),
        ms(r.loadGeneratorCpuMs),
        r.otherLoadPercent === undefined ? '-' : `${r.otherLoadPercent.toFixed(0)}%`,
      ]),
    ),
    '',
    `ratio platform/bare (req/s, projects(first: 20)): ${(platform.requestsPerSecond / bare.requestsPerSecond).toFixed(3)}  ` +
      `(the bare resolver serves ${(bare.requestsPerSecond / platform.requestsPerSecond).toFixed(1)}x the platform's requests/s)`,
    '',
  ];
  process.stdout.write(out.join('\n') + '\n');
}

async function main(): Promise<void> {
  const settings: LoadSettings = {
    connections: numberFromEnv('BENCH_CONNECTIONS', 10, 1),
    durationSeconds: numberFromEnv('BENCH_DURATION', 10, 1),
    warmupSeconds: numberFromEnv('BENCH_WARMUP', 5, 0),
    workers: numberFromEnv('BENCH_AUTOCANNON_WORKERS', 1, 0),
    say,
  };
  const breakdownWanted = process.env.BENCH_BREAKDOWN !== '0';
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const cpu = cpus();
  say(`node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  let platform: Platform | undefined;
  let bare: BareApp | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      if (bare) await bare.close().catch((error: Error) => say(`closing the bare app: ${error.message}`));
      if (platform) await platform.stop().catch((error: Error) => say(`stopping the platform: ${error.message}`));
    })());
  process.once('SIGINT', () => {
    say('interrupted, cleaning up');
    void cleanUp().finally(() => process.exit(130));
  });

  try {
    say('starting the platform (dist/src/main.js, NODE_ENV=production, fresh database, migrations)');
    platform = await Platform.start({
      adminDatabaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      appRolePassword: process.env.BENCH_APP_ROLE_PASSWORD ?? 'lutece_app_dev_password',
      nodeArgs: [...(process.env.BENCH_API_NODE_ARGS ?? '').split(/\s+/).filter(Boolean), ...(profileDir ? ['--inspect=127.0.0.1:0'] : [])],
      say,
    });
    say(`platform ready at ${platform.baseUrl}; signing up and creating ${PROJECT_COUNT} projects through the API`);
    const token = await seed(platform);

    const platformTarget = await reference(platform, 'platform projects(first: 20)', PROJECTS_QUERY, token);
    const payload = JSON.parse(platformTarget.expectBody).data as ProjectsPayload;
    if (payload.projects.edges.length !== PROJECT_COUNT || payload.projects.totalCount !== PROJECT_COUNT) {
      throw new Error(`expected ${PROJECT_COUNT} projects, got: ${platformTarget.expectBody}`);
    }

    say('starting the bare NestJS + Apollo app in this process');
    bare = await startBareApp(toBareData(payload));
    const bareCpu: CpuSources = { server: mainThreadCpuMs, serverInThisProcess: true };
    const bareTarget: LoadTarget = { ...platformTarget, label: 'bare projects(first: 20)', url: bare.url, headers: { 'content-type': 'application/json' }, cpu: bareCpu };
    const bareBody = await (await fetch(bare.url, { method: 'POST', headers: bareTarget.headers, body: bareTarget.body })).text();
    if (bareBody !== platformTarget.expectBody) {
      throw new Error(`the bare app's response differs from the platform's:\n  bare:     ${bareBody}\n  platform: ${platformTarget.expectBody}`);
    }
    say(`both answer the same ${platformTarget.expectBody.length}-byte body`);

    const breakdownTargets = breakdownWanted
      ? [
          await reference(platform, 'platform { tenant { id } }', 'query BenchTenant { tenant { id } }', token),
          await reference(platform, 'platform { __typename }, token', 'query BenchTypename { __typename }', token),
          await reference(platform, 'platform { __typename }, anonymous', 'query BenchTypename { __typename }'),
        ]
      : [];
    if (breakdownWanted) {
      const body = JSON.stringify({ query: 'query BenchTypename { __typename }', variables: {} });
      const expectBody = await (await fetch(bare.url, { method: 'POST', headers: bareTarget.headers, body })).text();
      if (JSON.parse(expectBody).data?.__typename !== 'Query') throw new Error(`bare { __typename }: unexpected response ${expectBody}`);
      breakdownTargets.push({ ...bareTarget, label: 'bare { __typename }', body, expectBody });
    }

    let profiling: MeasureHooks = {};
    if (profileDir) {
      if (!platform.inspectorUrl) throw new Error('BENCH_PROFILE_DIR is set but the api printed no inspector URL');
      const profiler = await RemoteProfiler.connect(platform.inspectorUrl);
      say(`profiling the api during the measured platform projects run (its figures are skewed by the profiler)`);
      profiling = {
        before: () => profiler.start(),
        after: async () => {
          const { file, summary } = await profiler.stop(profileDir, `api-projects-${Date.now()}`);
          profiler.close();
          say(`api CPU profile written to ${file}; self time by package:\n${summary}`);
        },
      };
    }

    const bareFigures = await measure(bareTarget, settings);
    const platformFigures = await measure(platformTarget, settings, profiling);
    const breakdown: LoadFigures[] = [];
    for (const target of breakdownTargets) breakdown.push(await measure(target, settings));

    if (platform.exited) throw new Error(`the api exited during the run:\n${platform.output.join('')}`);
    printTable(bareFigures, platformFigures, breakdown, settings);
    say(`load average after the runs: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    reportApiOutput(platform);
  } finally {
    say('cleaning up (bare app, api process, database, Redis keys)');
    await cleanUp();
  }
}

runBenchmark('api-overhead', main);
