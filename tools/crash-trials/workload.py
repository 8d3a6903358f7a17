"""Crash-trial workers, run as `python3 workload.py ROLE JSON`.

Roles:
  creator   makes the episode's queues (sticky ones, and ones tied to itself), prints "ready",
            then lives until killed, so its queues must survive daemon restarts.
  producer  enqueues messages (open O_CREAT|O_EXCL, write in chunks, close) into the given queues
            and into a queue of its own, which must be reaped once it is dead.
  consumer  dequeues with the README's exactly-once recipe: readlink head (or tail), read the
            file, unlink it by its own name.

Producers and consumers append their acknowledgements to their own file, one line per step,
written before the next step (see ledger.ts for the line format). They stop at the first error
that means the daemon is gone.
"""
import errno
import hashlib
import json
import os
import random
import sys
import time


def content(tag, name, length):
    out = bytearray()
    i = 0
    while len(out) < length:
        out += hashlib.sha256(f"{tag}/{name}/{i}".encode()).digest()
        i += 1
    return bytes(out[:length])


class Acks:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def say(self, line):
        # One write(2) per line: the line is in the kernel before the next step starts.
        os.write(self.fd, (line + "\n").encode())


def pause(rng, max_ms):
    if max_ms > 0 and rng.random() < 0.5:
        time.sleep(rng.random() * max_ms / 1000)


def creator(cfg):
    mnt = cfg["mnt"]
    for q in cfg["sticky"]:
        os.mkdir(f"{mnt}/{q}")
        os.setxattr(f"{mnt}/{q}", "user.eventfs_sticky", b"")
    for q in cfg["owned"]:
        os.mkdir(f"{mnt}/{q}")
    if cfg.get("exit"):
        return
    print("ready", flush=True)
    while True:
        time.sleep(3600)


def producer(cfg):
    rng = random.Random(cfg["seed"])
    acks = Acks(cfg["acks"])
    mnt, tag, prefix = cfg["mnt"], cfg["tag"], cfg["prefix"]
    queues = list(cfg["queues"])
    acks.say("R")
    try:
        own = cfg.get("own")
        if own:
            os.mkdir(f"{mnt}/{own}")
            acks.say(f"Q {own}")
            queues.append(own)
    except OSError as e:
        acks.say(f"X {e.errno}")
        return
    n = 0
    while True:
        n += 1
        q = rng.choice(queues)
        name = f"{prefix}-{n}"
        length = rng.choice([0, rng.randint(1, 64), rng.randint(1, 4096), rng.randint(1, cfg["max_bytes"])])
        data = content(tag, name, length)
        acks.say(f"E {q} {name} {length}")
        fd = -1
        try:
            fd = os.open(f"{mnt}/{q}/{name}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            done = 0
            while done < length:
                done += os.write(fd, data[done:done + rng.randint(1, cfg["chunk_bytes"])])
            os.close(fd)
            fd = -1
        except OSError as e:
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
            if e.errno in (errno.ENOENT, errno.EDQUOT):
                # Popped by a consumer while being written, or over quota: the daemon lives.
                acks.say(f"u {q} {name} {e.errno}")
                continue
            acks.say(f"X {e.errno}")
            return
        acks.say(f"e {q} {name}")
        pause(rng, cfg["pause_ms"])


def consumer(cfg):
    rng = random.Random(cfg["seed"])
    acks = Acks(cfg["acks"])
    mnt = cfg["mnt"]
    acks.say("R")
    while True:
        q = rng.choice(cfg["queues"])
        which = "head" if rng.random() < 0.8 else "tail"
        try:
            try:
                name = os.readlink(f"{mnt}/{q}/{which}")
            except FileNotFoundError:
                time.sleep(0.002)
                continue
            try:
                with open(f"{mnt}/{q}/{name}", "rb") as f:
                    f.read()
            except FileNotFoundError:
                continue
            acks.say(f"D {q} {name}")
            try:
                os.unlink(f"{mnt}/{q}/{name}")
            except FileNotFoundError:
                acks.say(f"l {q} {name}")
                continue
            acks.say(f"d {q} {name}")
        except OSError as e:
            acks.say(f"X {e.errno}")
            return
        pause(rng, cfg["pause_ms"])


if __name__ == "__main__":
    role, cfg = sys.argv[1], json.loads(sys.argv[2])
    {"creator": creator, "producer": producer, "consumer": consumer}[role](cfg)
