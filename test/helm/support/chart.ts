import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isScalar, parseDocument, visit } from 'yaml';
import * as apiConfig from '../../../src/config/config';
import * as workerConfig from '../../../gpu-worker/src/config';

/**
 * What the chart tests read: the chart's files, its values (merged the way helm merges them), its
 * templates as text, and the environment variables the api and the worker read.
 * Neither helm nor a cluster is needed.
 */

export const ROOT = join(__dirname, '..', '..', '..');
export const CHART = join(ROOT, 'helm', 'lutece');
export const TEMPLATES = join(CHART, 'templates');
export const ENVIRONMENT_FILES = ['values-staging.yaml', 'values-production.yaml'];

export type Values = Record<string, any>;

export function read(...path: string[]): string {
  return readFileSync(join(ROOT, ...path), 'utf8');
}

/** Plain scalars that YAML 1.1 (go-yaml, hence helm) reads as booleans while YAML 1.2 reads strings. */
const YAML11_BOOLEANS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

/**
 * Parses a YAML file strictly: any error or warning (duplicate keys, bad indentation, tabs...) and
 * any plain scalar helm would read differently (yes/no/on/off) is reported, with its line.
 */
export function strictYamlProblems(text: string): string[] {
  const doc = parseDocument(text, { strict: true, uniqueKeys: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && node.type === 'PLAIN' && typeof node.source === 'string' && YAML11_BOOLEANS.test(node.source)) {
        problems.push(`plain scalar "${node.source}" is a boolean for helm (YAML 1.1): quote it`);
      }
    },
  });
  text.split('\n').forEach((line, index) => {
    if (/\t/.test(line)) problems.push(`line ${index + 1}: tab character`);
    if (/\s+$/.test(line)) problems.push(`line ${index + 1}: trailing whitespace`);
  });
  if (!text.endsWith('\n')) problems.push('no newline at end of file');
  return problems;
}

export function loadYaml(...path: string[]): Values {
  return parseDocument(read(...path), { strict: true, uniqueKeys: true }).toJS() as Values;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** helm's merge of a values file over the chart's values.yaml: maps merge, lists are replaced, null deletes. */
export function helmMerge(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = helmMerge(out[key], value);
    else out[key] = value;
  }
  return out;
}

export function chartValues(): Values {
  return loadYaml('helm', 'lutece', 'values.yaml');
}

/** Each environment's effective values, as helm computes them before validating the schema. */
export function environmentValues(): [string, Values][] {
  const base = chartValues();
  return ENVIRONMENT_FILES.map((file) => [file, helmMerge(base, loadYaml('helm', 'lutece', file))]);
}

export function templateFiles(): string[] {
  return readdirSync(TEMPLATES).filter((f) => f.endsWith('.yaml') || f.endsWith('.tpl') || f.endsWith('.txt'));
}

export function template(name: string): string {
  return readFileSync(join(TEMPLATES, name), 'utf8');
}

/** YAML documents of a template, split on `---` lines (template directives left in place). */
export function templateDocuments(name: string): string[] {
  return template(name).split(/^---$/m);
}

/** The body of a `{{- define "name" -}} ... {{- end -}}` block of _helpers.tpl. */
export function helper(name: string): string {
  const source = template('_helpers.tpl');
  const start = source.indexOf(`{{- define "${name}" -}}`);
  if (start < 0) throw new Error(`no helper ${name}`);
  const end = source.indexOf('{{- end -}}\n\n', start);
  return source.slice(start, end < 0 ? undefined : end);
}

/**
 * Keys of a values file that are neither documented nor inside a documented value. A key is
 * documented by the comment block right above it when that block starts with "# --" (helm-docs
 * style). An undocumented key holding a mapping is a section: each of its keys must then be
 * documented. A documented key covers everything below it (a pool, a resources block, a peer...).
 */
export function undocumentedKeys(text: string): string[] {
  const lines = text.split('\n');
  const stack: { indent: number; documented: boolean }[] = [];
  const problems: string[] = [];
  lines.forEach((line, index) => {
    const match = /^(\s*)(- )?([A-Za-z_][\w.-]*):(.*)$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) return;
    const indent = match[1].length + (match[2] ? 2 : 0);
    const leaf = match[4].trim() !== '' && !match[4].trim().startsWith('#');
    let first = index;
    while (first > 0 && lines[first - 1].trimStart().startsWith('#')) first--;
    const documented = first < index && lines[first].trimStart().startsWith('# --');
    while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
    const covered = stack.some((ancestor) => ancestor.documented);
    if (!covered && !documented && leaf) problems.push(`line ${index + 1}: ${line.trim()}`);
    stack.push({ indent, documented: covered || documented });
  });
  return problems;
}

/** Templates that define pods: every Deployment and Job. */
export function workloadTemplates(): string[] {
  return templateFiles().filter((f) => f.endsWith('.yaml') && /^kind: (Deployment|Job)$/m.test(template(f)));
}

// ------------------------------------------------------------------------------------------------
// Environment variables

export const API_VARIABLES: readonly string[] = apiConfig.ENVIRONMENT_VARIABLES;

/**
 * The worker's variables: its exported list when there is one, otherwise the keys of the env
 * schema in gpu-worker/src/config.ts.
 */
export const WORKER_VARIABLES: readonly string[] = (() => {
  const exported = (workerConfig as Record<string, unknown>).WORKER_ENVIRONMENT_VARIABLES;
  if (Array.isArray(exported) && exported.length > 0) return exported as string[];
  const source = read('gpu-worker', 'src', 'config.ts');
  const schema = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source);
  if (!schema) throw new Error('gpu-worker/src/config.ts: no exported variable list and no `const envSchema = z.object({...})`');
  return [...schema[1].matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
})();

/** Where values.yaml places each variable (see its header). */
export const VALUES_SECTIONS = {
  shared: (v: Values) => Object.keys(v.config ?? {}),
  api: (v: Values) => Object.keys(v.api?.config ?? {}),
  worker: (v: Values) => Object.keys(v.workers?.config ?? {}),
  secrets: (v: Values) => Object.keys(v.secrets ?? {}),
  derived: (v: Values) => Object.keys(v.derivedEnv ?? {}),
};

export function variablesInValues(values: Values): Set<string> {
  return new Set(Object.values(VALUES_SECTIONS).flatMap((section) => section(values)));
}

/** The variables the api or the worker read that values.yaml does not name. */
export function missingFromValues(values: Values, read: readonly string[] = [...API_VARIABLES, ...WORKER_VARIABLES]): string[] {
  const present = variablesInValues(values);
  return [...new Set(read)].filter((name) => !present.has(name)).sort();
}

/** Names of the README's configuration table rows: "| `NAME` | ...". */
export function tableVariables(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]));
}

/** The README's "Configuration" section, split into the api's table and the "Worker" sub-table. */
export function readmeConfiguration(readme: string): { api: string; worker: string } {
  const start = readme.indexOf('\n## Configuration');
  if (start < 0) return { api: '', worker: '' };
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const workerStart = section.indexOf('\n### Worker');
  if (workerStart < 0) return { api: section, worker: '' };
  const workerEnd = section.indexOf('\n### ', workerStart + 1);
  return { api: section.slice(0, workerStart), worker: section.slice(workerStart, workerEnd < 0 ? undefined : workerEnd) };
}

/** Secret-looking variable names (*_URL, *KEYS, *SECRET*, *PASSWORD*, S3_ACCESS_KEY_ID): never a literal `value:`. */
export const SECRET_NAME = /(_URL$|KEYS$|SECRET|PASSWORD|ACCESS_KEY_ID$)/;
