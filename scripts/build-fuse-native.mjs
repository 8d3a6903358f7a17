#!/usr/bin/env node
// postinstall: apply patches/fuse-native-2.2.6.patch to node_modules/fuse-native (idempotent) and
// rebuild its addon offline with node-gyp, so node-gyp-build loads build/Release/fuse.node (patched)
// instead of the stock prebuild. The patch adds fuse.context() (caller uid/gid/pid), null paths for
// unlinked-but-open files (hard_remove), a working fgetattr and the utimens mtime fix, and links the
// addon against the patched libfuse.so.2 in node_modules/.eventfs/libfuse (rpath), which
// scripts/build-libfuse.sh builds first (Debian's fuse source + patches/libfuse-2.9.9-eventfs.patch).
// Quiet on success: one line per step (libfuse, addon). On failure: the tool output, then one line
// saying why.
//
// Usage: node scripts/build-fuse-native.mjs [--force]   (--force rebuilds even if up to date)
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const PATCH = path.join(ROOT, 'patches', 'fuse-native-2.2.6.patch')
const VERSION = '2.2.6'
const force = process.argv.includes('--force')

function fail (msg, output) {
  if (output) process.stderr.write(output.endsWith('\n') ? output : output + '\n')
  console.error(`build-fuse-native: ${msg}`)
  process.exit(1)
}

function run (cmd, args, cwd, env = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` }
}

if (!existsSync('/usr/include/fuse.h')) {
  fail('libfuse-dev is missing (/usr/include/fuse.h): run `sudo bash scripts/setup-system.sh`, then `npm rebuild eventfs` or `node scripts/build-fuse-native.mjs`')
}

const rootRequire = createRequire(path.join(ROOT, 'package.json'))
let pkgDir
try {
  pkgDir = path.dirname(rootRequire.resolve('fuse-native/package.json'))
} catch {
  fail('node_modules/fuse-native not found: run `npm install` first')
}
const version = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version
if (version !== VERSION) fail(`fuse-native ${version} installed, but the patch is for ${VERSION}`)

// --- 0. the patched libfuse, where the patched binding.gyp links it and its rpath finds it:
// node_modules/.eventfs/libfuse, next to fuse-native (idempotent; prints one line).
const LIBFUSE_DIR = path.join(path.dirname(pkgDir), '.eventfs', 'libfuse')
{
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'build-libfuse.sh'), LIBFUSE_DIR], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
  if (r.status !== 0) fail(`building the patched libfuse failed${r.error ? ` (${r.error.message})` : ''} (see above)`)
}

// --- 1. apply the patch (git apply, or GNU patch as fallback), detecting an already-applied one.
// GIT_CEILING_DIRECTORIES keeps git from finding an enclosing repository (the project's own, when
// node_modules lives in a clone): inside one, `git apply` would resolve paths against that
// repository's root and silently skip files outside the current directory.
const gitEnv = { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(pkgDir) }
const hasGit = run('git', ['--version'], pkgDir).ok
const hasPatch = run('patch', ['--version'], pkgDir).ok
if (!hasGit && !hasPatch) fail('neither git nor patch is available to apply the fuse-native patch')

function check (reverse) {
  if (hasGit) return run('git', ['apply', '--check', ...(reverse ? ['-R'] : []), PATCH], pkgDir, gitEnv).ok
  return run('patch', ['-p1', '-s', '-f', '--dry-run', ...(reverse ? ['-R'] : []), '-i', PATCH], pkgDir).ok
}

function apply (patchFile, reverse) {
  return hasGit
    ? run('git', ['apply', ...(reverse ? ['-R'] : []), patchFile], pkgDir, gitEnv)
    : run('patch', ['-p1', '-s', '-f', ...(reverse ? ['-R'] : []), '-i', patchFile], pkgDir)
}

// A copy of the patch last applied, so a changed patch replaces the old one in place (reverse the
// old, apply the new) instead of requiring a reinstall of fuse-native.
const APPLIED = path.join(pkgDir, '.eventfs-applied.patch')
let applied = false
if (!check(true)) {
  if (!check(false) && existsSync(APPLIED) && readFileSync(APPLIED, 'utf8') !== readFileSync(PATCH, 'utf8')) {
    const r = apply(APPLIED, true)
    if (!r.ok) fail('reverting the previously applied fuse-native patch failed', r.out)
  }
  if (!check(false)) {
    fail(`the patch does not apply to ${pkgDir} (modified?): reinstall it with \`rm -rf node_modules/fuse-native && npm install\``)
  }
  const r = apply(PATCH, false)
  if (!r.ok) fail('applying the fuse-native patch failed', r.out)
  applied = true
}
if (!existsSync(APPLIED) || readFileSync(APPLIED, 'utf8') !== readFileSync(PATCH, 'utf8')) copyFileSync(PATCH, APPLIED)

// --- 2. rebuild, unless build/Release was already built from this exact patch and loads.
const stamp = path.join(pkgDir, 'build', 'eventfs-patch.sha256')
const digest = createHash('sha256').update(readFileSync(PATCH)).digest('hex')
const addon = path.join(pkgDir, 'build', 'Release', 'fuse.node')

// Load the binding in a child process (a loaded .node cannot be unloaded, and the rebuilt one
// must be checked fresh), require the patch's marker export, and check that the libfuse.so.2 it
// mapped is the patched copy (not the system one).
function bindingOk () {
  const code = `const b = require(${JSON.stringify(rootRequire.resolve('node-gyp-build', { paths: [pkgDir] }))})(${JSON.stringify(pkgDir)});
if (b.eventfs_caller_context !== 1) { console.error('loaded binding is not the patched one'); process.exit(2) }
const fs = require('fs'), path = require('path');
const lib = (/\\s(\\/\\S*libfuse\\.so\\.2\\S*)$/m.exec(fs.readFileSync('/proc/self/maps', 'utf8')) || [])[1];
const want = ${JSON.stringify(realpathSync(LIBFUSE_DIR))};
if (!lib || path.dirname(fs.realpathSync(lib)) !== want) { console.error('the addon loaded ' + (lib || 'no libfuse.so.2') + ', not the patched libfuse in ' + want); process.exit(3) }`
  return run(process.execPath, ['-e', code], pkgDir, { ...process.env, PREBUILDS_ONLY: '', LD_LIBRARY_PATH: '' })
}

const upToDate = !force && !applied && existsSync(addon) && existsSync(stamp) &&
  readFileSync(stamp, 'utf8').trim() === digest && bindingOk().ok
if (upToDate) {
  console.log('build-fuse-native: fuse-native already patched and built (build/Release/fuse.node)')
  process.exit(0)
}

// node-gyp: npm's bundled copy (offline). npm exports its path to lifecycle scripts as
// npm_config_node_gyp; otherwise look next to npm (npm_execpath), next to node, then `npm root -g`.
function findNodeGyp () {
  const candidates = []
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp)
  try { candidates.push(rootRequire.resolve('node-gyp/bin/node-gyp.js')) } catch {}
  if (process.env.npm_execpath) {
    candidates.push(path.resolve(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  }
  candidates.push(path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  const g = run('npm', ['root', '-g'], ROOT)
  if (g.ok) candidates.push(path.join(g.out.trim().split('\n').pop() ?? '', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  return candidates.find((c) => c && existsSync(c))
}
const nodeGyp = findNodeGyp()
if (!nodeGyp) fail('node-gyp not found (expected npm\'s bundled copy): install npm, or run `npm install -g node-gyp`')

// Node's headers: Debian's nodejs puts them in /usr/include/node; official tarballs in <prefix>/include/node.
// Without a local copy node-gyp would try to download them, which fails offline.
const nodedir = [path.resolve(path.dirname(process.execPath), '..'), '/usr']
  .find((d) => existsSync(path.join(d, 'include', 'node', 'node_api.h')) && existsSync(path.join(d, 'include', 'node', 'common.gypi')))
if (!nodedir) fail('Node.js headers (include/node/node_api.h) not found next to node or in /usr: install the nodejs headers (Debian: libnode-dev)')

const build = run(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`], pkgDir)
if (!build.ok) fail('node-gyp rebuild of fuse-native failed (see output above)', build.out)

const loaded = bindingOk()
if (!loaded.ok) fail('the rebuilt fuse-native addon does not load, or not with the patched libfuse (see above)', loaded.out)
writeFileSync(stamp, digest + '\n')
console.log(`build-fuse-native: fuse-native ${VERSION} ${applied ? 'patched' : 'already patched'}, addon rebuilt (build/Release/fuse.node)`)
