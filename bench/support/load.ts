import autocannon from 'autocannon';

export interface LoadTarget {
  label: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The exact response body every request must get back (checked for each response). */
  expectBody: string;
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

export async function measure(target: LoadTarget, settings: LoadSettings): Promise<LoadFigures> {
  const { say } = settings;
  if (settings.warmupSeconds > 0) {
    say(`${target.label}: warm-up, ${settings.warmupSeconds} s x ${settings.connections} connections`);
    check(target, 'warm-up', await fire(target, settings, settings.warmupSeconds));
  }
  say(`${target.label}: measuring, ${settings.durationSeconds} s x ${settings.connections} connections`);
  const result = await fire(target, settings, settings.durationSeconds);
  check(target, 'measure', result);
  const figures: LoadFigures = {
    label: target.label,
    requestsPerSecond: result.requests.average,
    requestsPerSecondStddev: result.requests.stddev,
    p50: result.latency.p50,
    p99: result.latency.p99,
    totalRequests: result.requests.total,
  };
  say(`${target.label}: ${figures.requestsPerSecond.toFixed(0)} req/s, p50 ${figures.p50} ms, p99 ${figures.p99} ms (${figures.totalRequests} requests, all 2xx with the expected body)`);
  return figures;
}
