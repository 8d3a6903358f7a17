/**
 * The log is the truth: after a random workload on a real mount, folding the log offline gives
 * exactly what walking the mount shows. And the README's exactly-once recipe holds under
 * concurrent consumers.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { readLogDir } from '../../src/log/reader.ts';
import { entriesInOrder, fold, fromPlain, emptyState, type Event, type PlainState, type State } from '../../src/model/index.ts';
import { python, startMount, type TestMount, PYTHON } from '../helpers/mount.ts';
import { stickyQueue } from '../helpers/queues.ts';

let m: TestMount;
before(async () => (m = await startMount()));
after(async () => await m?.stop());

/** A seeded random workload in python: creates, appends, truncates, links, pops, xattrs, chmods. */
const WORKLOAD = `
import os, random, sys
root, seed, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
queues = [root + "/w" + str(i) for i in range(4)]
counter = 0
def files(q):
    return [n for n in os.listdir(q) if n not in ("head", "tail")]
for step in range(steps):
    q = rng.choice(queues)
    op = rng.random()
    try:
        if op < 0.35:
            counter += 1
            with open(f"{q}/m{counter}", "wb") as f:
                f.write(os.urandom(rng.randint(0, 300)))
        elif op < 0.45 and files(q):
            with open(f"{q}/{rng.choice(files(q))}", "ab") as f:
                f.write(b"+" * rng.randint(1, 50))
        elif op < 0.5 and files(q):
            os.truncate(f"{q}/{rng.choice(files(q))}", rng.randint(0, 100))
        elif op < 0.6 and files(q):
            counter += 1
            os.link(f"{q}/{rng.choice(files(q))}", f"{rng.choice(queues)}/l{counter}")
        elif op < 0.7:
            os.unlink(f"{q}/head")
        elif op < 0.78:
            os.unlink(f"{q}/tail")
        elif op < 0.86 and files(q):
            os.unlink(f"{q}/{rng.choice(files(q))}")
        elif op < 0.93 and files(q):
            os.setxattr(f"{q}/{rng.choice(files(q))}", "user.k" + str(rng.randint(0, 3)), os.urandom(8))
        elif files(q):
            os.chmod(f"{q}/{rng.choice(files(q))}", rng.choice([0o600, 0o644, 0o640]))
    except FileNotFoundError:
        pass
`;

/** What a user can see of the mount, as JSON: queues in order, entries in order, bytes, attributes. */
const WALK = `
import json, os, sys
root = sys.argv[1]
view = {}
for q in sorted(os.listdir(root)):
    entries = []
    for n in os.listdir(f"{root}/{q}"):
        if n in ("head", "tail"):
            continue
        p = f"{root}/{q}/{n}"
        st = os.stat(p)
        xattrs = {k: os.getxattr(p, k).hex() for k in sorted(os.listxattr(p))}
        entries.append([n, st.st_ino, st.st_nlink, st.st_mode & 0o7777, st.st_uid, open(p, "rb").read().hex(), xattrs])
    view[q] = entries
print(json.dumps(view, sort_keys=True))
`;

function viewOf(state: State): Record<string, unknown[]> {
  const view: Record<string, unknown[]> = {};
  for (const name of [...state.queues.keys()].sort()) {
    const queue = state.queues.get(name)!;
    view[name] = [...entriesInOrder(queue)].map((entry) => {
      const inode = state.inodes.get(entry.ino)!;
      const xattrs = Object.fromEntries([...inode.xattrs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.toString('hex')]));
      return [entry.name, inode.ino, inode.nlink, inode.mode, inode.uid, inode.data.subarray(0, inode.size).toString('hex'), xattrs];
    });
  }
  return view;
}

async function foldLog(dir: string): Promise<State> {
  const read = await readLogDir(dir);
  const base = read.snapshot === null ? emptyState() : fromPlain(read.snapshot.state as PlainState);
  return fold(read.events as unknown as Event[], base);
}

describe('the log', () => {
  it('folds offline to exactly what the mount shows after a random workload', async () => {
    for (let i = 0; i < 4; i++) stickyQueue(`${m.mnt}/w${i}`);
    python(WORKLOAD, [m.mnt, '20261126', '600']);
    const walked = JSON.parse(python(WALK, [m.mnt]));
    const folded = viewOf(await foldLog(m.logDir));
    assert.deepEqual(folded, walked);
    assert.ok(Object.values(walked).flat().length > 0, 'the workload left messages to compare');
  });
});

describe('the exactly-once recipe', () => {
  it('never gives one message to two concurrent consumers, and loses none', async () => {
    stickyQueue(`${m.mnt}/once`);
    const count = 300;
    python(`import sys\nfor i in range(${count}):\n    open(f"{sys.argv[1]}/m{i:04d}", "w").write(str(i))`, [`${m.mnt}/once`]);
    const consumer = `
import os, sys
q = sys.argv[1]
got = []
while True:
    try:
        name = os.readlink(q + "/head")
    except FileNotFoundError:
        break
    try:
        data = open(f"{q}/{name}").read()
        os.unlink(f"{q}/{name}")
    except FileNotFoundError:
        continue
    got.append(data)
print(" ".join(got))
`;
    const run = () => new Promise<string[]>((resolve, reject) => {
      const child = spawn(PYTHON, ['-c', consumer, `${m.mnt}/once`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(out.trim().split(' ').filter(Boolean)) : reject(new Error(`consumer ${code}`))));
    });
    const results = await Promise.all([run(), run(), run()]);
    const all = results.flat();
    assert.equal(new Set(all).size, all.length, 'no message consumed twice');
    assert.equal(all.length, count, 'every message consumed');
  });
});
