#!/usr/bin/env bash
# Sets eventfs up on a fresh Debian machine and mounts it with sensible defaults:
# system packages (libfuse2, fuse, libfuse-dev, attr, a C++ toolchain), npm dependencies with
# fuse-native patched and rebuilt offline, then a mount at ./mnt with its log in ./logs.
# EVENTFS_MOUNTPOINT=/path overrides the mountpoint; EVENTFS_NO_MOUNT=1 skips the mount.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup-system.sh
npm ci --no-audit --no-fund
[ "${EVENTFS_NO_MOUNT:-}" = 1 ] && exit 0
mnt=${EVENTFS_MOUNTPOINT:-$PWD/mnt}
mkdir -p "$mnt"
if mountpoint -q "$mnt"; then
  echo "eventfs: $mnt is already mounted"
else
  ./bin/eventfs.js --log-dir "$PWD/logs" "$mnt"
  echo "eventfs: mounted at $mnt (log in $PWD/logs); unmount with: fusermount -u $mnt"
fi
