#!/usr/bin/env node
// Runs every *.test.ts / *.test.tsx under src/, tools/ and test/ with node:test through tsx.
// (Node 20's --test takes no glob patterns.) Arguments narrow the run to paths containing any of them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOTS = ['src', 'tools', 'test'];
const filters = process.argv.slice(2);

function* testFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') yield* testFiles(path);
    else if (/\.test\.tsx?$/.test(entry.name)) yield path;
  }
}

const files = ROOTS.flatMap((root) => [...testFiles(root)]).filter((file) => filters.length === 0 || filters.some((f) => file.includes(f))).sort();
if (files.length === 0) {
  console.error(`run-tests: no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// One file at a time: integration tests mount real filesystems and time real processes.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
