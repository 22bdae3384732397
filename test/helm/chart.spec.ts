import Ajv, { type ValidateFunction } from 'ajv';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  API_VARIABLES,
  CHART,
  chartValues,
  environmentValues,
  ENVIRONMENT_FILES,
  helmMerge,
  helper,
  loadYaml,
  missingFromValues,
  read,
  readmeConfiguration,
  SECRET_NAME,
  strictYamlProblems,
  tableVariables,
  undocumentedKeys,
  template,
  templateDocuments,
  templateFiles,
  type Values,
  VALUES_SECTIONS,
  WORKER_VARIABLES,
  workloadTemplates,
} from './support/chart';

/**
 * Checks of the Helm chart that run without helm and without a cluster: strict YAML, the values
 * schema (with ajv, on each environment's values merged as helm merges them), the security
 * properties of the templates, and configuration parity between the code, values.yaml and README.md.
 * Operators run the real thing with helm (docs/DEPLOYMENT.md, "Checking the chart").
 */

const FRENCH_REGION = /^fr-[a-z0-9-]+$/;

function schemaValidator(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv.compile(JSON.parse(read('helm', 'lutece', 'values.schema.json')));
}

function schemaErrors(validate: ValidateFunction, values: Values): string[] {
  return validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('chart files', () => {
  it('has the layout of a chart', () => {
    for (const file of ['Chart.yaml', 'values.yaml', 'values.schema.json', 'values-staging.yaml', 'values-production.yaml', '.helmignore']) {
      expect(existsSync(join(CHART, file))).toBe(true);
    }
    for (const file of [
      '_helpers.tpl',
      'NOTES.txt',
      'api-deployment.yaml',
      'api-service.yaml',
      'api-hpa.yaml',
      'api-pdb.yaml',
      'api-servicemonitor.yaml',
      'migrations-job.yaml',
      'worker-deployments.yaml',
      'worker-scaledobjects.yaml',
      'networkpolicies.yaml',
      'serviceaccounts.yaml',
    ]) {
      expect(templateFiles()).toContain(file);
    }
  });

  it.each(['helm/lutece/Chart.yaml', 'helm/lutece/values.yaml', 'helm/lutece/values-staging.yaml', 'helm/lutece/values-production.yaml', 'helm/.yamllint'])(
    'parses %s strictly as YAML (no duplicate key, tab, trailing space or YAML 1.1 boolean)',
    (file) => {
      expect(strictYamlProblems(read(...file.split('/')))).toEqual([]);
    },
  );

  it('reports what the strict YAML check is for', () => {
    expect(strictYamlProblems('a: 1\na: 2\n').join()).toMatch(/unique/i);
    expect(strictYamlProblems('enabled: yes\n').join()).toMatch(/boolean for helm/);
    expect(strictYamlProblems('a: 1 \n').join()).toMatch(/trailing whitespace/);
  });

  it('declares a v2 chart whose appVersion is the package version', () => {
    const chart = loadYaml('helm', 'lutece', 'Chart.yaml');
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'lutece', type: 'application' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(chart.appVersion).toBe(JSON.parse(read('package.json')).version);
  });

  it.each(['values.yaml', ...ENVIRONMENT_FILES])('documents every setting of %s on the line above it', (file) => {
    expect(undocumentedKeys(read('helm', 'lutece', file))).toEqual([]);
  });

  it('reports an undocumented setting', () => {
    expect(undocumentedKeys('# -- documented\na: 1\nsection:\n  # -- documented\n  b: 2\n  c: 3\n')).toEqual(['line 6: c: 3']);
  });
});

describe('values.schema.json (ajv)', () => {
  const validate = schemaValidator();

  it('accepts values.yaml', () => {
    expect(schemaErrors(validate, chartValues())).toEqual([]);
  });

  it('merges an environment file over values.yaml as helm does: maps merge, lists are replaced, null deletes', () => {
    expect(helmMerge({ a: { b: 1, c: 2 }, l: [1, 2], d: 1 }, { a: { c: 3 }, l: [9], d: null })).toEqual({ a: { b: 1, c: 3 }, l: [9] });
  });

  it.each(ENVIRONMENT_FILES)('accepts %s merged over values.yaml, as helm validates it', (file) => {
    const [, values] = environmentValues().find(([name]) => name === file)!;
    expect(schemaErrors(validate, values)).toEqual([]);
  });

  it('puts staging and production in separate namespaces, with separate Redis prefixes and buckets', () => {
    const [[, staging], [, production]] = environmentValues();
    expect(staging.expectedNamespace).toBe('lutece-staging');
    expect(production.expectedNamespace).toBe('lutece-production');
    expect(staging.config.REDIS_PREFIX).not.toBe(production.config.REDIS_PREFIX);
    expect(staging.config.S3_BUCKET).not.toBe(production.config.S3_BUCKET);
  });

  const refused: [string, (v: Values) => void][] = [
    ['a pool outside France', (v) => (v.gpuPools[0].region = 'de-fra')],
    ['api pods outside France', (v) => (v.api.regions = ['fr-par', 'nl-ams'])],
    ['an object store outside France', (v) => (v.config.STORAGE_REGION = 'eu-west-1')],
    ['a literal secret instead of a reference', (v) => (v.secrets.MASTER_KEYS = 'k1:c2VjcmV0')],
    ['a secret value in plain config', (v) => (v.api.config.JWT_SIGNING_KEYS = 'k1:c2VjcmV0')],
    ['a database secret for workers', (v) => (v.workers.secrets = { DATABASE_APP_URL: { name: 'db', key: 'url' } })],
    ['an empty NetworkPolicy destination (= any destination)', (v) => (v.networkPolicy.redis.to = [])],
    ['pods running as root', (v) => (v.podSecurity.runAsUser = 0)],
    ['a development NODE_ENV', (v) => (v.config.NODE_ENV = 'development')],
    ['the local storage driver', (v) => (v.config.STORAGE_DRIVER = 'local')],
    ['a GPU pool without a GPU', (v) => (v.gpuPools[0].gpus = 0)],
    ['a CPU pool asking for a GPU', (v) => Object.assign(v.gpuPools[0], { flavor: 'cpu', backend: 'wasm', gpus: 1 })],
    ['a dedicated pool whose tenant id is not a UUID', (v) => (v.gpuPools[0].dedicatedTenantId = 'chu-de-lyon')],
    ['an unknown queue', (v) => (v.gpuPools[0].queues = ['training', 'everything'])],
    ['a misspelt key', (v) => (v.api.autoscalling = { enabled: true })],
    ['a pool missing a variable-bearing field', (v) => delete v.gpuPools[0].region],
    ['KEDA without the Secret it authenticates with', (v) => Object.assign(v.keda, { enabled: true, redis: { ...v.keda.redis, authSecretName: '' } })],
  ];

  it.each(refused)('refuses %s', (_what, change) => {
    const values = clone(chartValues());
    change(values);
    expect(schemaErrors(validate, values)).not.toEqual([]);
  });

  it('accepts a dedicated (HDS) pool and a CPU inference pool', () => {
    const values = clone(chartValues());
    values.gpuPools.push(
      { ...values.gpuPools[0], id: 'fr-par-hds-chu', dedicatedTenantId: '3f0c6d1e-8a4b-4c2d-9e7f-1a2b3c4d5e6f', priceClass: 'dedicated' },
      { ...values.gpuPools[0], id: 'fr-par-cpu', gpuClass: 'CPU', gpuModel: 'none', flavor: 'cpu', backend: 'wasm', gpus: 0, queues: ['inference'] },
    );
    expect(schemaErrors(validate, values)).toEqual([]);
  });
});

describe('templates: network', () => {
  const documents = templateDocuments('networkpolicies.yaml');
  const policy = (name: string) => documents.find((d) => d.includes(`name: {{ $fullname }}-${name}`)) ?? '';
  const egressPeers = (doc: string) => [...doc.matchAll(/include "lutece\.peers" \(dict "peers" \$np\.(\w+)\.to/g)].map((m) => m[1]).sort();

  it('denies all ingress and egress of the namespace by default', () => {
    const deny = policy('default-deny');
    expect(deny).toMatch(/kind: NetworkPolicy/);
    expect(deny).toMatch(/podSelector: \{\}/);
    expect(deny).toMatch(/- Ingress/);
    expect(deny).toMatch(/- Egress/);
    expect(deny).not.toMatch(/^\s*(egress|ingress):/m);
    for (const [file, values] of [['values.yaml', chartValues()] as const, ...environmentValues()]) {
      expect([file, values.networkPolicy.enabled, values.networkPolicy.defaultDeny]).toEqual([file, true, true]);
    }
  });

  it('lets the api reach only PostgreSQL, Redis, the object store and DNS', () => {
    expect(egressPeers(policy('api'))).toEqual(['dns', 'objectStorage', 'postgres', 'redis']);
  });

  it('lets workers reach only Redis, the object store and DNS: no database, no internet, no ingress', () => {
    const worker = policy('worker');
    expect(egressPeers(worker)).toEqual(['dns', 'objectStorage', 'redis']);
    expect(worker).toMatch(/^\s*ingress: \[\]$/m);
  });

  it('lets the migrations Job reach only PostgreSQL and DNS, from its first run on (a hook itself)', () => {
    const migrations = templateDocuments('migrations-job.yaml').find((d) => d.includes('kind: NetworkPolicy')) ?? '';
    expect(migrations).toMatch(/helm\.sh\/hook: pre-install,pre-upgrade/);
    expect([...migrations.matchAll(/include "lutece\.peers" \(dict "peers" \.Values\.networkPolicy\.(\w+)\.to/g)].map((m) => m[1]).sort()).toEqual([
      'dns',
      'postgres',
    ]);
  });

  it('refuses an empty destination list instead of rendering "to: []" (which allows everything)', () => {
    expect(helper('lutece.peers')).toMatch(/if empty \.peers[\s\S]*fail/);
  });

  it('names real destinations in production (ipBlock), not the in-cluster defaults', () => {
    const [, production] = environmentValues().find(([f]) => f === 'values-production.yaml')!;
    for (const target of ['postgres', 'redis', 'objectStorage']) {
      expect(production.networkPolicy[target].to.every((peer: Values) => peer.ipBlock?.cidr)).toBe(true);
    }
  });
});

describe('templates: pods', () => {
  it('finds the workloads: api, migrations, workers', () => {
    expect(workloadTemplates().sort()).toEqual(['api-deployment.yaml', 'migrations-job.yaml', 'worker-deployments.yaml']);
  });

  it('runs every container non-root, read-only, without capabilities, under seccomp RuntimeDefault', () => {
    const pod = helper('lutece.podSecurityContext');
    expect(pod).toMatch(/runAsNonRoot: true/);
    expect(pod).toMatch(/seccompProfile:\s+type: RuntimeDefault/);
    const container = helper('lutece.containerSecurityContext');
    for (const line of [/runAsNonRoot: true/, /readOnlyRootFilesystem: true/, /allowPrivilegeEscalation: false/, /privileged: false/, /drop:\s+- ALL/, /type: RuntimeDefault/]) {
      expect(container).toMatch(line);
    }
    for (const file of workloadTemplates()) {
      const source = template(file);
      const containers = (source.match(/^\s+- name: (api|worker|migrations)$/gm) ?? []).length;
      expect([file, containers]).toEqual([file, 1]);
      expect([file, (source.match(/include "lutece\.podSecurityContext"/g) ?? []).length]).toEqual([file, 1]);
      expect([file, (source.match(/securityContext:\s+\{\{- include "lutece\.containerSecurityContext"/g) ?? []).length]).toEqual([file, 1]);
      // The only writable path is the /tmp emptyDir.
      expect(source).toMatch(/include "lutece\.tmpVolumeMount"/);
      expect(source).toMatch(/include "lutece\.tmpVolume"/);
      expect(source).not.toMatch(/hostPath|hostNetwork: true|hostPID: true|privileged: true/);
    }
    for (const [, values] of [['values.yaml', chartValues()] as const, ...environmentValues()]) {
      expect(values.podSecurity.runAsUser).toBeGreaterThan(0);
    }
  });

  it('mounts no service-account token in any pod, workers included', () => {
    for (const file of workloadTemplates()) expect([file, template(file)]).toEqual([file, expect.stringMatching(/automountServiceAccountToken: false/)]);
    expect(template('serviceaccounts.yaml').match(/automountServiceAccountToken: false/g)).toHaveLength(2);
    expect(templateFiles().map(template).join('\n')).not.toMatch(/kind: (Role|ClusterRole|RoleBinding|ClusterRoleBinding)\b/);
  });

  it('pins every pod to a French region (topology.kubernetes.io/region In fr-*)', () => {
    const requirement = helper('lutece.regionRequirement');
    expect(requirement).toMatch(/key: topology\.kubernetes\.io\/region\s+operator: In/);
    expect(requirement).toMatch(/regexMatch "\^fr-\[a-z0-9-\]\+\$"[\s\S]*fail/);
    for (const file of workloadTemplates()) {
      expect([file, template(file)]).toEqual([file, expect.stringMatching(/requiredDuringSchedulingIgnoredDuringExecution:[\s\S]*include "lutece\.regionRequirement"/)]);
    }
    for (const [, values] of [['values.yaml', chartValues()] as const, ...environmentValues()]) {
      expect(values.api.regions.every((r: string) => FRENCH_REGION.test(r))).toBe(true);
      expect(values.gpuPools.every((p: Values) => FRENCH_REGION.test(p.region))).toBe(true);
    }
  });

  it('puts each pool on its own labelled GPU nodes, with GPU tolerations and nvidia.com/gpu requests', () => {
    const workers = template('worker-deployments.yaml');
    expect(workers).toMatch(/range \$pool := \.Values\.gpuPools/);
    expect(workers).toMatch(/key: \{\{ \$root\.Values\.workers\.poolLabelKey \}\}\s+operator: In\s+values:\s+- \{\{ \$pool\.id \| quote \}\}/);
    expect(workers).toMatch(/toYaml \$root\.Values\.workers\.gpuTolerations/);
    expect(workers.match(/\{\{ \$root\.Values\.workers\.gpuResourceName \}\}: \{\{ \$pool\.gpus \}\}/g)).toHaveLength(2); // requests and limits
    const values = chartValues();
    expect(values.workers.gpuResourceName).toBe('nvidia.com/gpu');
    expect(values.workers.gpuTolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
  });

  it('dedicates a pool to a tenant through a node label and a taint, and keeps shared pools off those nodes', () => {
    const workers = template('worker-deployments.yaml');
    expect(workers).toMatch(/if \$pool\.dedicatedTenantId[\s\S]*key: \{\{ \$root\.Values\.workers\.dedicatedTenantKey \}\}\s+operator: In\s+values:\s+- \{\{ \$pool\.dedicatedTenantId \| quote \}\}/);
    expect(workers).toMatch(/key: \{\{ \$root\.Values\.workers\.dedicatedTenantKey \}\}\s+operator: Equal\s+value: \{\{ \$pool\.dedicatedTenantId \| quote \}\}\s+effect: NoSchedule/);
    expect(workers).toMatch(/else \}\}[\s\S]*key: \{\{ \$root\.Values\.workers\.dedicatedTenantKey \}\}\s+operator: DoesNotExist/);
    // The api's GPU_POOLS carries the same dedicatedTenantId, so placement and scheduling agree.
    expect(helper('lutece.gpuPoolsJson')).toMatch(/"dedicatedTenantId" \.dedicatedTenantId/);
  });

  it('probes the api on /healthz and /readyz, rolls it out without downtime, autoscales and budgets it', () => {
    const api = template('api-deployment.yaml');
    expect(api).toMatch(/startupProbe:\s+httpGet:\s+path: \/healthz/);
    expect(api).toMatch(/livenessProbe:\s+httpGet:\s+path: \/healthz/);
    expect(api).toMatch(/readinessProbe:\s+httpGet:\s+path: \/readyz/);
    expect(api).toMatch(/maxUnavailable: 0/);
    expect(template('api-hpa.yaml')).toMatch(/kind: HorizontalPodAutoscaler/);
    expect(template('api-pdb.yaml')).toMatch(/kind: PodDisruptionBudget/);
    expect(template('api-servicemonitor.yaml')).toMatch(/^\{\{- if \.Values\.api\.metrics\.serviceMonitor\.enabled \}\}[\s\S]*path: \/metrics/);
    expect(chartValues().api.metrics.serviceMonitor.enabled).toBe(false);
  });

  it('scales each pool from zero with KEDA on the Bull wait list, behind a flag, with a replicas fallback', () => {
    const keda = template('worker-scaledobjects.yaml');
    expect(keda).toMatch(/^\{\{- if \.Values\.keda\.enabled \}\}/);
    expect(keda).toMatch(/kind: ScaledObject/);
    expect(keda).toMatch(/- type: redis\b/);
    expect(keda).toMatch(/listName: \{\{ printf "%s:bull:%s:%s:%s" \$prefix \$queue \$pool\.id \$list \| quote \}\}/);
    expect(keda).toMatch(/range \$list := list "wait" "active"/);
    expect(keda).toMatch(/minReplicaCount: \{\{ \$pool\.minReplicas \}\}/);
    expect(keda).toMatch(/\$prefix := required [^\n]*\.Values\.config\.REDIS_PREFIX/);
    // So the list KEDA watches for pool P is <REDIS_PREFIX>:bull:training:P:wait, Bull's own key
    // (the api and the worker give Bull the prefix "<REDIS_PREFIX>:bull").
    expect(read('src', 'app.module.ts')).toMatch(/prefix: `\$\{config\.redisPrefix\}:bull`/);
    expect(read('gpu-worker', 'src', 'config.ts')).toMatch(/bullPrefix: `\$\{env\.REDIS_PREFIX\}:bull`/);
    // Without KEDA, each Deployment has the pool's replicas; with it, KEDA owns the replica count.
    expect(template('worker-deployments.yaml')).toMatch(/\{\{- if not \$root\.Values\.keda\.enabled \}\}\s+replicas: \{\{ \$pool\.replicas \}\}/);
    for (const [, values] of environmentValues()) expect(values.keda.enabled).toBe(true);
  });

  it('runs migrations as a pre-install,pre-upgrade hook Job with the owner credentials', () => {
    const job = templateDocuments('migrations-job.yaml').find((d) => d.includes('kind: Job')) ?? '';
    expect(job).toMatch(/helm\.sh\/hook: pre-install,pre-upgrade/);
    expect(job).toMatch(/"name" "DATABASE_URL" "required" true/);
    expect(job).toMatch(/runMigrations\(process\.env\.DATABASE_URL/);
    expect(job).not.toMatch(/DATABASE_APP_URL|REDIS_URL|MASTER_KEYS|JWT_SIGNING_KEYS/);
    // The module the Job loads exists and exports what it calls.
    expect(read('src', 'database', 'migrate.ts')).toMatch(/export async function runMigrations\(ownerUrl: string/);
    expect(read('src', 'database', 'migrate.ts')).toMatch(/export async function enableAppRoleLogin\(ownerUrl: string, password: string\)/);
  });

  it('gives the api only the non-owner role, and never lets it migrate or start workers', () => {
    const api = template('api-deployment.yaml');
    expect(api).toMatch(/"name" "DATABASE_APP_URL" "required" true/);
    expect(api).not.toMatch(/"DATABASE_URL"|name: DATABASE_URL\b/);
    expect(api).toMatch(/- name: MIGRATE_ON_START\s+value: "false"/);
    expect(api).toMatch(/- name: WORKERS\s+value: "0"/);
    expect(api).toMatch(/- name: GPU_POOLS\s+value: \{\{ include "lutece\.gpuPoolsJson" \. \| quote \}\}/);
  });
});

describe('templates: secrets', () => {
  const sources = () => templateFiles().map((file) => [file, template(file)] as const);

  it('creates no Secret: every secret is a reference to an existing one', () => {
    for (const [file, source] of sources()) expect([file, source]).toEqual([file, expect.not.stringMatching(/^kind: Secret$/m)]);
    expect(helper('lutece.secretEnv')).toMatch(/valueFrom:\s+secretKeyRef:\s+name: \{\{ \$ref\.name \}\}/);
  });

  it('never gives a *_URL, *KEYS, *SECRET* or *PASSWORD* variable a literal value', () => {
    const literal: string[] = [];
    for (const [file, source] of sources()) {
      const lines = source.split('\n');
      lines.forEach((line, index) => {
        const name = /^\s*- name: ([A-Z][A-Z0-9_]*)\s*$/.exec(line)?.[1];
        if (name && SECRET_NAME.test(name) && /^\s*value:/.test(lines[index + 1] ?? '')) literal.push(`${file}:${index + 1} ${name}`);
      });
    }
    expect(literal).toEqual([]);
    // Plain settings go through lutece.plainEnv, fed only by config maps that hold no secret name.
    for (const [, values] of [['values.yaml', chartValues()] as const, ...environmentValues()]) {
      const plain = [...VALUES_SECTIONS.shared(values), ...VALUES_SECTIONS.api(values), ...VALUES_SECTIONS.worker(values)];
      expect(plain.filter((name) => SECRET_NAME.test(name))).toEqual([]);
    }
  });

  it('passes every secret variable the code reads through secretKeyRef', () => {
    const secretVariables = [...new Set([...API_VARIABLES, ...WORKER_VARIABLES])].filter((n) => SECRET_NAME.test(n)).sort();
    expect(Object.keys(chartValues().secrets).sort()).toEqual(expect.arrayContaining(secretVariables));
    for (const [, values] of [['values.yaml', chartValues()] as const, ...environmentValues()]) {
      for (const ref of Object.values(values.secrets) as Values[]) expect(Object.keys(ref).sort()).toEqual(['key', 'name']);
    }
  });

  it('keeps values files free of anything that looks like a key or a credential', () => {
    const strings = (node: unknown, path: string): [string, string][] =>
      typeof node === 'string'
        ? [[path, node]]
        : node && typeof node === 'object'
          ? Object.entries(node).flatMap(([key, child]) => strings(child, `${path}.${key}`))
          : [];
    const suspicious = [
      /[A-Za-z0-9_-]+:[A-Za-z0-9+/]{40,}={0,2}/, // a key ring entry id:base64
      /[a-z]+:\/\/[^/\s:@]+:[^/\s@]+@/, // a URL with a password
      /BEGIN [A-Z ]*PRIVATE KEY/,
    ];
    expect(suspicious[0].test('k1:ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTMyYnk=')).toBe(true);
    expect(suspicious[1].test('rediss://lutece:s3cret@redis.example.fr:6379/0')).toBe(true);
    for (const [file, values] of [['values.yaml', chartValues()] as const, ...ENVIRONMENT_FILES.map((f) => [f, loadYaml('helm', 'lutece', f)] as const)]) {
      const found = strings(values, file).filter(([, value]) => suspicious.some((pattern) => pattern.test(value)));
      expect(found).toEqual([]);
    }
  });

  it('gives workers no database variable at all', () => {
    const workers = template('worker-deployments.yaml');
    expect(workers).not.toMatch(/"name" "DATABASE_|name: DATABASE_/);
    const secretNames = [...workers.matchAll(/include "lutece\.secretEnv" \(dict "refs" \$workerSecrets "name" "(\w+)"/g)].map((m) => m[1]).sort();
    expect(secretNames).toEqual(['MASTER_KEYS', 'REDIS_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']);
    for (const [, values] of [['values.yaml', chartValues()] as const, ...environmentValues()]) {
      const workerPlain = [...VALUES_SECTIONS.shared(values), ...VALUES_SECTIONS.worker(values), ...values.gpuPools.flatMap((p: Values) => Object.keys(p.config ?? {}))];
      expect(workerPlain.filter((name) => name.startsWith('DATABASE_'))).toEqual([]);
      expect(Object.keys(values.workers.secrets ?? {}).filter((name) => name.startsWith('DATABASE_'))).toEqual([]);
    }
    // And the worker reads none: the design gives it no database access.
    expect(WORKER_VARIABLES.filter((name) => name.startsWith('DATABASE_'))).toEqual([]);
  });
});

describe('configuration parity', () => {
  const readme = read('README.md');
  const values = chartValues();

  it('knows the variables the api and the worker read', () => {
    expect(API_VARIABLES).toEqual(expect.arrayContaining(['DATABASE_APP_URL', 'MASTER_KEYS', 'GPU_POOLS']));
    expect(WORKER_VARIABLES).toEqual(expect.arrayContaining(['WORKER_POOL', 'WORKER_REGION', 'MASTER_KEYS', 'REDIS_URL']));
  });

  it('names every variable the api and the worker read in values.yaml', () => {
    expect(missingFromValues(values)).toEqual([]);
  });

  it('fails when a variable is removed from values.yaml', () => {
    for (const [section, name] of [
      ['config', 'REDIS_PREFIX'],
      ['api.config', 'PRICE_BOOK'],
      ['workers.config', 'WORKER_LOCK_SECONDS'],
      ['secrets', 'MASTER_KEYS'],
      ['derivedEnv', 'WORKER_NODE'],
    ] as const) {
      const changed = clone(values);
      const path = section.split('.');
      const holder = path.reduce((node, key) => node[key], changed as Values);
      delete holder[name];
      expect([section, missingFromValues(changed)]).toEqual([section, [name]]);
    }
  });

  it('names no variable that nothing reads, each in the section matching who reads it', () => {
    const api = new Set(API_VARIABLES);
    const worker = new Set(WORKER_VARIABLES);
    expect(VALUES_SECTIONS.shared(values).filter((n) => !(api.has(n) && worker.has(n)))).toEqual([]);
    expect(VALUES_SECTIONS.api(values).filter((n) => !api.has(n))).toEqual([]);
    expect(VALUES_SECTIONS.worker(values).filter((n) => !worker.has(n))).toEqual([]);
    expect([...VALUES_SECTIONS.secrets(values), ...VALUES_SECTIONS.derived(values)].filter((n) => !api.has(n) && !worker.has(n))).toEqual([]);
    const all = Object.values(VALUES_SECTIONS).flatMap((section) => section(values));
    expect(all.filter((name, i) => all.indexOf(name) !== i)).toEqual([]);
  });

  it('sets in the templates every variable it says the chart derives', () => {
    const templates = templateFiles().map(template).join('\n');
    const derived = Object.entries(values.derivedEnv as Record<string, string>).filter(([, how]) => !how.startsWith('unused'));
    expect(derived.length).toBeGreaterThan(5);
    for (const [name] of derived) expect([name, templates]).toEqual([name, expect.stringMatching(new RegExp(`- name: ${name}\\b`))]);
  });

  it('documents every variable the api reads in the README configuration table', () => {
    const table = tableVariables(readmeConfiguration(readme).api);
    expect(API_VARIABLES.filter((name) => !table.has(name))).toEqual([]);
  });

  it('documents every variable the worker reads in the README "Worker" table', () => {
    const table = tableVariables(readmeConfiguration(readme).worker);
    expect(table.size).toBeGreaterThan(0);
    expect(WORKER_VARIABLES.filter((name) => !table.has(name))).toEqual([]);
  });

  it('tells operators how to deploy, in README.md and docs/DEPLOYMENT.md', () => {
    expect(readme).toMatch(/## Deploying to Kubernetes[\s\S]*helm lint[\s\S]*helm template[\s\S]*helm (upgrade --install|install)[\s\S]*docs\/DEPLOYMENT\.md/);
    const guide = read('docs', 'DEPLOYMENT.md');
    for (const topic of [/crypto-shredding/i, /rotateTenantKey/, /MASTER_KEYS/, /dedicatedTenantId/, /yamllint/, /zero downtime/i]) expect(guide).toMatch(topic);
  });
});
