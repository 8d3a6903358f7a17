#!/usr/bin/env python3
"""The one bench client: every scenario runs these same loops against every target (tmpfs, the
no-log floor, eventfs in each durability mode), one process per producer or consumer.

Messages are named PREFIX-NNNNNNNN and carry their own name at the start of a fixed-size
payload, so a consumer verifies both that it got every message and that it got the bytes.

Each command prints one JSON line on stdout: its own timing (time.monotonic, CLOCK_MONOTONIC,
comparable across processes), its CPU time (user+system, so the kernel's share of each syscall)
during the timed loop, and what it consumed. With --sync it prints "ready" first and waits
for a line on stdin, so that concurrent clients start together and python's start-up is never
timed.

  produce   DIR --prefix P --count N --size B
            create+write+close N files DIR/P-00000000.. (O_CREAT|O_EXCL, one write, close)
  pop       DIR --prefix P --count N --size B --via head|seq
            single consumer, in order: head: name = readlink(DIR/head), read DIR/name,
            unlink(DIR/head) (a blind pop); seq (tmpfs, which has no head): name = the next
            sequential name, lstat(DIR/name) in place of the readlink, read, unlink(DIR/name)
  claim     DIR --size B --via head|list --done FILE
            exactly-once consumer (README recipe): head: name = readlink(DIR/head); list (tmpfs):
            the names of a sorted listing, in turn; then read DIR/name and unlink(DIR/name);
            ENOENT on open or unlink: another consumer won it. A short read means the producer is
            still writing it: leave it and look again. Stops once the queue is empty and FILE exists.
  multicast SRC DST... --prefix P --count N --size B
            create+write+close SRC/P-n, then link it into every DST (hard links)
"""
import argparse
import errno
import json
import os
import sys
import time


def payload_for(name, size, base):
    head = name.encode()
    return (head + base[len(head):size])[:size]


def read_all(fd, size):
    chunks = []
    while True:
        chunk = os.read(fd, max(size + 1, 65536))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def sync_start(args):
    if args.sync:
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.readline()


def produce(args, base):
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    names = [f"{args.prefix}-{i:08d}" for i in range(args.count)]
    data = [payload_for(n, args.size, base) for n in names]
    sync_start(args)
    t0 = time.monotonic()
    c0 = time.process_time()
    for name, body in zip(names, data):
        fd = os.open(f"{args.dir}/{name}", flags, 0o644)
        write_all(fd, body)
        os.close(fd)
    t1 = time.monotonic()
    cpu = time.process_time() - c0
    return {"count": args.count, "bytes": args.count * args.size, "t0": t0, "t1": t1, "cpu": cpu}


def pop(args, base):
    names = [f"{args.prefix}-{i:08d}" for i in range(args.count)]
    head = f"{args.dir}/head"
    bad = []
    sync_start(args)
    t0 = time.monotonic()
    c0 = time.process_time()
    got = 0
    for expected in names:
        if args.via == "head":
            name = os.readlink(head)
        else:
            name = expected
            os.lstat(f"{args.dir}/{name}")
        fd = os.open(f"{args.dir}/{name}", os.O_RDONLY)
        body = read_all(fd, args.size)
        os.close(fd)
        os.unlink(head if args.via == "head" else f"{args.dir}/{name}")
        if name != expected or body != payload_for(name, args.size, base):
            bad.append(name)
        got += 1
    t1 = time.monotonic()
    cpu = time.process_time() - c0
    if args.via == "head":
        try:
            os.readlink(head)
            bad.append("head still present after the last pop")
        except FileNotFoundError:
            pass
    return {"count": got, "bytes": got * args.size, "t0": t0, "t1": t1, "cpu": cpu, "bad": bad[:10], "badCount": len(bad)}


def claim(args, base):
    head = f"{args.dir}/head"
    mine = []
    bad = []
    lost = 0
    short = 0
    looks = 0
    sleeps = 0
    idle = 0.0005
    sync_start(args)
    t0 = time.monotonic()
    c0 = time.process_time()

    def take(name):
        """True if this consumer won the message; False if another did or it is still being written."""
        nonlocal lost, short
        try:
            fd = os.open(f"{args.dir}/{name}", os.O_RDONLY)
        except FileNotFoundError:
            lost += 1
            return False
        try:
            body = read_all(fd, args.size)
        finally:
            os.close(fd)
        if len(body) < args.size:
            short += 1
            return False
        try:
            os.unlink(f"{args.dir}/{name}")
        except FileNotFoundError:
            lost += 1
            return False
        if body != payload_for(name, args.size, base):
            bad.append(name)
        mine.append(name)
        return True

    while True:
        looks += 1
        if args.via == "head":
            try:
                candidates = [os.readlink(head)]
            except FileNotFoundError:
                candidates = []
        else:
            candidates = sorted(os.listdir(args.dir))
        progressed = False
        for name in candidates:
            progressed = take(name) or progressed
        if progressed:
            idle = 0.0005
            continue
        if not candidates:
            if os.path.exists(args.done):
                # The producers had finished before this look: one more look settles it.
                if args.via == "head":
                    try:
                        os.readlink(head)
                        continue
                    except FileNotFoundError:
                        break
                if not os.listdir(args.dir):
                    break
                continue
        sleeps += 1
        time.sleep(idle)
        idle = min(idle * 2, 0.004)
    t1 = time.monotonic()
    cpu = time.process_time() - c0
    return {"count": len(mine), "bytes": len(mine) * args.size, "t0": t0, "t1": t1, "cpu": cpu, "names": mine,
            "lost": lost, "short": short, "looks": looks, "sleeps": sleeps, "bad": bad[:10], "badCount": len(bad)}


def multicast(args, base):
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    names = [f"{args.prefix}-{i:08d}" for i in range(args.count)]
    data = [payload_for(n, args.size, base) for n in names]
    sync_start(args)
    t0 = time.monotonic()
    c0 = time.process_time()
    for name, body in zip(names, data):
        src = f"{args.dir}/{name}"
        fd = os.open(src, flags, 0o644)
        write_all(fd, body)
        os.close(fd)
        for dst in args.dst:
            os.link(src, f"{dst}/{name}")
    t1 = time.monotonic()
    cpu = time.process_time() - c0
    return {"count": args.count, "links": args.count * len(args.dst), "bytes": args.count * args.size, "t0": t0, "t1": t1, "cpu": cpu}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["produce", "pop", "claim", "multicast"])
    parser.add_argument("dir")
    parser.add_argument("dst", nargs="*")
    parser.add_argument("--prefix", default="m")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--via", choices=["head", "seq", "list"], default="head")
    parser.add_argument("--done", default="")
    parser.add_argument("--sync", action="store_true")
    args = parser.parse_args()
    base = bytes((ord("a") + i % 26) for i in range(max(args.size, 64)))
    run = {"produce": produce, "pop": pop, "claim": claim, "multicast": multicast}[args.command]
    try:
        result = run(args, base)
    except OSError as error:
        result = {"error": f"{errno.errorcode.get(error.errno, error.errno)}: {error}"}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
