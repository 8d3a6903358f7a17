// src/model has no I/O (STYLE.md "How eventfs should look", point 1): no node:* imports, no
// builtin modules under their bare names, no clocks or randomness. The sources are read as text,
// and relative imports are followed, so a helper the model pulls in from elsewhere is held to the
// same rule (src/config/limits.ts is one).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MODEL_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_DIR = resolve(MODEL_DIR, '..', '..');

/** Packages the model may use: pure computation only. */
const ALLOWED_PACKAGES = ['@noble/hashes'];

/** Globals that reach the clock, the process, randomness or the event loop. */
const FORBIDDEN_GLOBALS: [RegExp, string][] = [
  [/\bprocess\s*\./, 'process'],
  [/\bDate\.now\b/, 'Date.now'],
  [/\bnew\s+Date\b/, 'new Date'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bperformance\s*\./, 'performance'],
  [/\bset(?:Timeout|Interval|Immediate)\s*\(/, 'timers'],
  [/\bqueueMicrotask\s*\(/, 'queueMicrotask'],
  [/\bconsole\s*\./, 'console'],
  [/\bfetch\s*\(/, 'fetch'],
  [/\brequire\s*\(/, 'require'],
  [/\bimport\s*\(/, 'dynamic import'],
  [/\bimport\.meta\b/, 'import.meta'],
  [/\beval\s*\(|\bnew\s+Function\b/, 'eval'],
];

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, name.split('/')[0]!]));

function modelSources(): string[] {
  return readdirSync(MODEL_DIR)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => join(MODEL_DIR, name));
}

/** Drops comments (and keeps strings), so prose that mentions Date.now() is not a violation. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\/|(^|[^:'"`\\])\/\/.*$/gm, (_match, prefix: string | undefined) => prefix ?? '');
}

/** Module specifiers of static imports and re-exports, including `import type`. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The model's sources plus every file they reach through relative imports. */
function reachableSources(): Map<string, string> {
  const sources = new Map<string, string>();
  const pending = modelSources();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (sources.has(file)) continue;
    const text = stripComments(readFileSync(file, 'utf8'));
    sources.set(file, text);
    for (const specifier of specifiers(text)) {
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
    }
  }
  return sources;
}

function violations(file: string, text: string): string[] {
  const where = relative(REPO_DIR, file);
  const found: string[] = [];
  for (const specifier of specifiers(text)) {
    if (specifier.startsWith('.')) continue;
    if (specifier.startsWith('node:')) found.push(`${where} imports ${specifier}`);
    else if (BUILTINS.has(packageOf(specifier))) found.push(`${where} imports the builtin ${specifier}`);
    else if (!ALLOWED_PACKAGES.includes(packageOf(specifier))) found.push(`${where} imports the package ${specifier}`);
  }
  for (const [pattern, name] of FORBIDDEN_GLOBALS) {
    if (pattern.test(text)) found.push(`${where} uses ${name}`);
  }
  return found;
}

describe('src/model purity', () => {
  it('finds the model sources and what they import', () => {
    const files = [...reachableSources().keys()].map((file) => relative(REPO_DIR, file));
    assert.ok(files.includes('src/model/decide.ts'));
    assert.ok(files.includes('src/model/apply.ts'));
    assert.ok(files.includes('src/config/limits.ts'), 'the quota resolver is reached through a relative import');
  });

  it('imports nothing from node:*, no builtin module and no package outside the allow-list', () => {
    const found = [...reachableSources()].flatMap(([file, text]) => violations(file, text).filter((v) => / imports /.test(v)));
    assert.deepEqual(found, []);
  });

  it('uses no clock, randomness, process, timers, console or dynamic code', () => {
    const found = [...reachableSources()].flatMap(([file, text]) => violations(file, text).filter((v) => / uses /.test(v)));
    assert.deepEqual(found, []);
  });

  describe('the checker itself', () => {
    it('flags a node: import, a bare builtin, a type-only import and a re-export', () => {
      const text = [
        "import { readFile } from 'node:fs';",
        "import * as cp from 'child_process';",
        "import type { Socket } from 'net';",
        "export { join } from 'path';",
        "import 'os';",
      ].join('\n');
      assert.deepEqual(violations(join(MODEL_DIR, 'x.ts'), text).length, 5);
    });

    it('flags a package that is not allowed and passes an allowed one', () => {
      const text = "import { sha256 } from '@noble/hashes/sha2.js';\nimport { x } from 'left-pad';";
      assert.deepEqual(violations(join(MODEL_DIR, 'x.ts'), text), ['src/model/x.ts imports the package left-pad']);
    });

    it('flags clocks and randomness but not the same words in comments', () => {
      assert.deepEqual(violations(join(MODEL_DIR, 'x.ts'), stripComments('// Date.now() is banned\nconst a = 1;')), []);
      assert.deepEqual(violations(join(MODEL_DIR, 'x.ts'), 'const t = Date.now();'), ['src/model/x.ts uses Date.now']);
      assert.deepEqual(violations(join(MODEL_DIR, 'x.ts'), 'const r = Math.random();'), ['src/model/x.ts uses Math.random']);
    });
  });
});
