#!/usr/bin/env bash
# Builds the patched libfuse.so.2 that the patched fuse-native addon loads (its rpath points at
# node_modules/.eventfs/libfuse): Debian's source for the installed libfuse2 (fuse 2.9.9-6 on
# Debian 12), fetched with `apt-get source`, plus patches/libfuse-2.9.9-eventfs.patch (why: see the
# patch header). Only the library is built (no fusermount, no examples); it is configured like
# Debian's package (prefix, /bin/fusermount, hardening flags from dpkg-buildflags), so it differs
# from the system copy by the patch alone.
#
# Usage: bash scripts/build-libfuse.sh [--force] [OUTDIR]
#   OUTDIR defaults to node_modules/.eventfs/libfuse; scripts/build-fuse-native.mjs (postinstall)
#   runs this first and passes the directory next to node_modules/fuse-native.
# Needs (scripts/setup-system.sh installs them): libfuse2, dpkg-dev, gcc, make, and a deb-src entry
# for the Debian archive (setup-system.sh adds /etc/apt/sources.list.d/eventfs-deb-src.*).
#
# Work tree: build/libfuse/ (gitignored; survives `npm ci`, so a reinstall only copies the cached
# library). Idempotent: skipped when OUTDIR's stamp matches the source version, the patch's sha256
# and RECIPE. Quiet on success (one line); on failure, the end of the log, then one line saying why.
set -euo pipefail

# Bump when the way the library is configured or built changes (forces a rebuild everywhere).
RECIPE=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATCH=$ROOT/patches/libfuse-2.9.9-eventfs.patch
WORK=$ROOT/build/libfuse
LOG=$WORK/build.log
UPSTREAM=2.9.9

force=0
OUT=
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    -*) echo "build-libfuse: unknown option $arg (usage: build-libfuse.sh [--force] [OUTDIR])" >&2; exit 2 ;;
    *) OUT=$arg ;;
  esac
done
OUT=${OUT:-$ROOT/node_modules/.eventfs/libfuse}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac

die() { echo "build-libfuse: $*" >&2; exit 1; }
rel() { case $1 in "$ROOT"/*) echo "${1#"$ROOT"/}" ;; *) echo "$1" ;; esac; }

# --- what to build: the source package of the installed libfuse2, and this patch.
[ -f "$PATCH" ] || die "$(rel "$PATCH") is missing"
upstream=$(dpkg-query -W -f='${source:Upstream-Version}' libfuse2 2>/dev/null) || upstream=
[ -n "$upstream" ] || die "libfuse2 is not installed: run \`sudo bash scripts/setup-system.sh\`"
[ "$upstream" = "$UPSTREAM" ] || die "libfuse2 $upstream is installed, but $(rel "$PATCH") is for $UPSTREAM"
srcver=$(dpkg-query -W -f='${source:Version}' libfuse2)   # e.g. 2.9.9-6 for libfuse2 2.9.9-6+b1
srcpkg=$(dpkg-query -W -f='${source:Package}' libfuse2)   # fuse
patch_sha=$(sha256sum "$PATCH" | cut -d' ' -f1)
want="$srcpkg $srcver; patch sha256 $patch_sha; recipe $RECIPE"

if [ "$force" = 0 ] && [ -f "$OUT/libfuse.so.2" ] && [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$want" ]; then
  echo "build-libfuse: patched libfuse already built ($(rel "$OUT")/libfuse.so.2)"
  exit 0
fi

for tool in apt-get dpkg-source dpkg-buildflags patch make cc readelf sha256sum flock; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found: run \`sudo bash scripts/setup-system.sh\` (needs dpkg-dev, gcc, make)"
done

mkdir -p "$WORK"
exec 9>"$WORK/.lock"
flock 9   # one build per work tree (e.g. two npm installs at once)
: >"$LOG"

# step DESCRIPTION CMD...: runs CMD with its output in the log; on failure shows the end of the log.
step() {
  local what=$1
  shift
  echo "### $what: $*" >>"$LOG"
  if ! "$@" >>"$LOG" 2>&1; then
    tail -n 25 "$LOG" >&2
    die "$what failed (full log: $(rel "$LOG"))"
  fi
}

SRC=$WORK/src
LIBSO=$SRC/lib/.libs/libfuse.so.$UPSTREAM
start=$SECONDS
how="installed from the build/libfuse cache"

if [ "$force" = 1 ] || [ ! -f "$LIBSO" ] || [ "$(cat "$WORK/built.stamp" 2>/dev/null)" != "$want" ]; then
  how="built"
  # --- fetch: `apt-get source` verifies the files against the archive's signed Sources index.
  DL=$WORK/dl/$srcver
  dsc=$DL/${srcpkg}_${srcver#*:}.dsc
  if [ ! -f "$dsc" ]; then
    if ! apt-cache showsrc --only-source "$srcpkg" 2>/dev/null | grep -qx "Version: $srcver"; then
      die "apt knows no source package $srcpkg $srcver: run \`sudo bash scripts/setup-system.sh\` (adds a deb-src entry and runs apt-get update)"
    fi
    rm -rf "$DL.part"
    mkdir -p "$DL.part"
    step "apt-get source $srcpkg=$srcver" sh -c 'cd "$1" && apt-get source --download-only -q "$2"' sh "$DL.part" "$srcpkg=$srcver"
    rm -rf "$DL"
    mv "$DL.part" "$DL"
  fi

  # --- unpack (applies Debian's patches), apply ours.
  rm -rf "$SRC" "$WORK/built.stamp"
  step "dpkg-source -x $(basename "$dsc")" dpkg-source --no-copy -x "$dsc" "$SRC"
  step "applying $(rel "$PATCH")" patch -d "$SRC" -p1 -s -f -i "$PATCH"
  # Debian's patches touch configure.ac and some Makefile.am; the shipped configure and Makefile.in
  # are fine for the library, so give generated files a later time than their sources, or make
  # would try to rerun autoconf/automake (not installed).
  step "normalising timestamps" sh -c 'cd "$1" &&
    find . -type f -exec touch -d @1500000000 {} + &&
    find . \( -name configure -o -name aclocal.m4 -o -name Makefile.in -o -name config.h.in \) -exec touch -d @1500000001 {} +' sh "$SRC"

  # --- configure like debian/rules (dh_auto_configure; fusermount is /bin/fusermount there),
  # library only; Debian's compiler and linker flags (hardening=+all optimize=-lto).
  multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
  flags=$(cd "$SRC" && DEB_BUILD_MAINT_OPTIONS='hardening=+all optimize=-lto' dpkg-buildflags --export=sh)
  step "configure" sh -c 'cd "$1" && eval "$2" && ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
      --bindir=/bin --libdir="/usr/lib/$3" --disable-dependency-tracking --disable-silent-rules \
      --disable-static --disable-util --disable-example' sh "$SRC" "$flags" "$multiarch"
  step "make -C lib" make -C "$SRC/lib" -j"$(nproc 2>/dev/null || echo 2)"

  [ -f "$LIBSO" ] || die "make -C lib did not produce $(rel "$LIBSO") (log: $(rel "$LOG"))"
  soname=$(readelf -d "$LIBSO" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [ "$soname" = libfuse.so.2 ] || die "$(rel "$LIBSO") has soname '$soname', expected libfuse.so.2"
  echo "$want" >"$WORK/built.stamp"
fi

# --- install into OUT without touching files that running processes have mapped: a new file
# renamed over the old one (the old inode lives on for them), the symlink likewise.
mkdir -p "$OUT"
tmp=$OUT/.libfuse.so.$UPSTREAM.$$
cp "$LIBSO" "$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$OUT/libfuse.so.$UPSTREAM"
ln -sfn "libfuse.so.$UPSTREAM" "$OUT/.libfuse.so.2.$$"
mv -Tf "$OUT/.libfuse.so.2.$$" "$OUT/libfuse.so.2"
echo "$want" >"$OUT/stamp"
echo "build-libfuse: patched libfuse $srcver $how in $((SECONDS - start))s ($(rel "$OUT")/libfuse.so.2)"
