#!/usr/bin/env bash
# Install the system packages eventfs needs on Debian 12 (bookworm); idempotent.
# Run as root, or as a user with sudo. Usage: bash scripts/setup-system.sh
#   libfuse2     runtime libfuse.so.2 that fuse-native's addon links against
#   fuse         fusermount (setuid) + /etc/fuse.conf; conflicts with fuse3, so not fuse3
#   libfuse-dev  /usr/include/fuse.h, needed to rebuild the patched fuse-native addon
#   attr         setfattr/getfattr (sticky queues); g++ make python3 pkg-config: node-gyp
#   tmux         end-to-end tests of eventfs-top; strace: the durability-mode tests watch fsyncs
#   dpkg-dev gcc scripts/build-libfuse.sh: `apt-get source fuse` (dpkg-source), Debian's build
#                flags (dpkg-buildflags) and a C compiler for the patched libfuse.so.2
# It also adds deb-src entries (derived from the system's own Debian sources, so the same mirror)
# as /etc/apt/sources.list.d/eventfs-deb-src.sources (or .list), unless apt already has them.
set -euo pipefail

PACKAGES=(libfuse2 fuse libfuse-dev attr g++ make python3 tmux pkg-config dpkg-dev gcc strace)

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "setup-system.sh: must run as root (sudo not found)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

# deb-src for `apt-get source fuse` (scripts/build-libfuse.sh): the system's Debian sources with
# Types: deb-src, in a file of our own; the mirror comes from the system's file at run time.
SRC_DEB822=/etc/apt/sources.list.d/eventfs-deb-src.sources
SRC_LIST=/etc/apt/sources.list.d/eventfs-deb-src.list
need_update=0
if ! apt-cache showsrc --only-source fuse 2>/dev/null | grep -q '^Package: fuse$'; then
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822: every stanza whose Types include deb becomes a deb-src stanza; others are dropped.
    src=$(awk 'BEGIN { RS = ""; ORS = "\n\n" }
      /(^|\n)Types:[^\n]*[[:space:]]deb([[:space:]]|\n|$)/ { sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' \
      /etc/apt/sources.list.d/debian.sources)
    target=$SRC_DEB822
  else
    # one-line format (older installs): the Debian `deb` lines of /etc/apt/sources.list.
    src=$(sed -n 's/^[[:space:]]*deb[[:space:]]\(.*debian.*\)/deb-src \1/p' /etc/apt/sources.list 2>/dev/null || true)
    target=$SRC_LIST
  fi
  if [ -z "$src" ]; then
    echo "setup-system.sh: no Debian 'deb' entries found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list to derive deb-src entries from" >&2
    exit 1
  fi
  printf '# Added by eventfs scripts/setup-system.sh: source packages for scripts/build-libfuse.sh.\n%s\n' "$src" |
    "${SUDO[@]}" tee "$target" >/dev/null
  need_update=1
fi

if [ "${#missing[@]}" -gt 0 ] || [ "$need_update" = 1 ]; then
  "${SUDO[@]}" apt-get update
fi
if [ "${#missing[@]}" -gt 0 ]; then
  # fuse and fuse3 conflict: if fuse3 is installed, apt removes it in favour of fuse.
  "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}"
else
  echo "setup-system.sh: packages already installed: ${PACKAGES[*]}"
fi
if ! apt-cache showsrc --only-source fuse 2>/dev/null | grep -q '^Package: fuse$'; then
  echo "setup-system.sh: apt still knows no source package 'fuse' (deb-src entries in ${target:-/etc/apt/sources.list.d}?)" >&2
  exit 1
fi

# The fuse kernel module: built in on most kernels; loading may fail in containers (best effort).
if command -v modprobe >/dev/null 2>&1; then
  "${SUDO[@]}" modprobe fuse 2>/dev/null || true
fi

# /dev/fuse: character device 10:229, mode 0666 so unprivileged users can mount via fusermount.
if [ ! -c /dev/fuse ]; then
  "${SUDO[@]}" mknod -m 0666 /dev/fuse c 10 229 || {
    echo "setup-system.sh: /dev/fuse is missing and could not be created" >&2
    exit 1
  }
fi

# allow_other (used by eventfs so several uids can use one mount) requires user_allow_other
# for mounts made by non-root users; root mounts do not need it, but enable it for both.
if [ -f /etc/fuse.conf ] && ! grep -q '^[[:space:]]*user_allow_other' /etc/fuse.conf; then
  echo 'user_allow_other' | "${SUDO[@]}" tee -a /etc/fuse.conf >/dev/null
fi

for f in /usr/include/fuse.h /usr/bin/fusermount /dev/fuse; do
  [ -e "$f" ] || { echo "setup-system.sh: $f still missing" >&2; exit 1; }
done
echo "setup-system.sh: ok (libfuse $(dpkg-query -W -f='${Version}' libfuse2))"
