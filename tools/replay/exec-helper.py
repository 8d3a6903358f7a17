"""A stand-in for a process recorded in an eventfs log (eventfs-replay --exec).

Usage: python3 exec-helper.py MOUNTPOINT UID GID   (UID/GID "-": stay who we are)

When run as root it becomes UID/GID (with that user's groups when the user exists here), so the
mount sees the recorded caller. A helper that creates a queue is that queue's creator: the queue
lives as long as this process, and eventfs-replay kills it where the log recorded the reap.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout, in order.
  {"id": 1, "op": "mkdir", "path": "jobs", "mode": 493}  ->  {"id": 1, "ok": true}
  failures: {"id": 1, "ok": false, "errno": "EEXIST", "message": "..."}
Paths are relative to MOUNTPOINT. Bytes travel as base64. Files created here stay open (by the
recorded inode number) so that writes after a create work like the original process's, even
when the file's mode forbids opening it again.
"""
import base64
import errno
import json
import os
import pwd
import sys

FDS_MAX = 256


def become(uid, gid):
    if uid == "-" or os.geteuid() != 0:
        return
    uid, gid = int(uid), int(gid)
    try:
        groups = os.getgrouplist(pwd.getpwuid(uid).pw_name, gid)
    except KeyError:
        groups = [gid]
    os.setgroups(groups)
    os.setgid(gid)
    os.setuid(uid)


class Helper:
    def __init__(self, root):
        self.root = root
        self.fds = {}  # recorded inode number -> fd, oldest first

    def full(self, path):
        return os.path.join(self.root, path)

    def cached(self, ino):
        return self.fds.get(ino) if ino is not None else None

    def keep(self, ino, fd):
        if len(self.fds) >= FDS_MAX:
            oldest = next(iter(self.fds))
            os.close(self.fds.pop(oldest))
        self.fds[ino] = fd

    def op_mkdir(self, r):
        os.mkdir(self.full(r["path"]), r["mode"])

    def op_rmdir(self, r):
        os.rmdir(self.full(r["path"]))

    def op_create(self, r):
        fd = os.open(self.full(r["path"]), os.O_CREAT | os.O_EXCL | os.O_WRONLY, r["mode"])
        self.keep(r["ino"], fd)

    def op_write(self, r):
        data = base64.b64decode(r["data"])
        fd = self.cached(r.get("ino"))
        own = fd is None
        if own:
            fd = os.open(self.full(r["path"]), os.O_WRONLY)
        try:
            done = 0
            while done < len(data):
                done += os.pwrite(fd, data[done:], r["offset"] + done)
        finally:
            if own:
                os.close(fd)

    def op_truncate(self, r):
        fd = self.cached(r.get("ino"))
        if fd is None:
            os.truncate(self.full(r["path"]), r["size"])
        else:
            os.ftruncate(fd, r["size"])

    def op_forget(self, r):
        fd = self.fds.pop(r["ino"], None)
        if fd is not None:
            os.close(fd)

    def op_link(self, r):
        os.link(self.full(r["from"]), self.full(r["to"]))

    def op_unlink(self, r):
        path = self.full(r["path"])
        expect = r.get("expect")
        if expect is not None:
            actual = os.readlink(path)
            if actual != expect:
                return {"ok": False, "errno": "MISMATCH", "actual": actual}
        os.unlink(path)

    def op_chmod(self, r):
        os.chmod(self.full(r["path"]), r["mode"])

    def op_chown(self, r):
        os.chown(self.full(r["path"]), r["uid"], r["gid"])

    def op_utime(self, r):
        os.utime(self.full(r["path"]), ns=(int(r["atimeNs"]), int(r["mtimeNs"])))

    def op_setxattr(self, r):
        os.setxattr(self.full(r["path"]), r["key"], base64.b64decode(r["value"]))

    def op_removexattr(self, r):
        os.removexattr(self.full(r["path"]), r["key"])

    def op_walk(self, r):
        return {"ok": True, "queues": [self.walk_queue(name) for name in os.listdir(self.root)]}

    def xattrs(self, path):
        return [[k, base64.b64encode(os.getxattr(path, k, follow_symlinks=False)).decode()] for k in sorted(os.listxattr(path, follow_symlinks=False))]

    def link_of(self, path):
        try:
            return os.readlink(path)
        except FileNotFoundError:
            return None

    def walk_queue(self, name):
        path = self.full(name)
        st = os.lstat(path)
        messages = []
        for entry in os.listdir(path):
            if entry in ("head", "tail"):
                continue
            messages.append(self.walk_message(os.path.join(path, entry), entry))
        return {
            "name": name, "mode": st.st_mode & 0o7777, "uid": st.st_uid, "gid": st.st_gid, "xattrs": self.xattrs(path),
            "head": self.link_of(os.path.join(path, "head")), "tail": self.link_of(os.path.join(path, "tail")), "messages": messages,
        }

    def walk_message(self, path, name):
        st = os.lstat(path)
        with open(path, "rb") as f:
            data = f.read()
        return {
            "name": name, "ino": st.st_ino, "size": st.st_size, "mode": st.st_mode & 0o7777, "uid": st.st_uid, "gid": st.st_gid,
            "nlink": st.st_nlink, "data": base64.b64encode(data).decode(), "xattrs": self.xattrs(path),
        }


def reply(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main():
    root, uid, gid = sys.argv[1], sys.argv[2], sys.argv[3]
    become(uid, gid)
    os.umask(0)  # modes arrive exactly as recorded
    helper = Helper(root)
    reply({"ready": True, "pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid()})
    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = getattr(helper, "op_" + request["op"])(request) or {"ok": True}
        except OSError as error:
            name = errno.errorcode.get(error.errno, str(error.errno))
            result = {"ok": False, "errno": name, "message": error.strerror or str(error)}
        result["id"] = request["id"]
        reply(result)


if __name__ == "__main__":
    main()
