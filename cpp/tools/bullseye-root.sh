#!/usr/bin/env bash
# Creates a Debian 11 (bullseye: glibc 2.31, GCC 10's libgomp, OpenJDK 17) root in DIR, for two uses:
#   - a link sysroot: -DBCE4J_LINK_SYSROOT=DIR links libbce4j and libbce4j_cuda against bullseye's glibc
#     (cmake/Portable.cmake), and DIR/usr/lib/<multiarch>/libgomp.so.1 is the OpenMP runtime to bundle;
#   - an old userland to load the natives in (cpp/tools/bullseye-load-test.sh).
#
#   cpp/tools/bullseye-root.sh [--arch amd64|arm64] DIR [MIRROR]
#
# --arch: the Debian architecture of the root (default: this machine's). A foreign one (arm64 on x86-64) is made
# with debootstrap --foreign and its second stage run in the root through qemu-user-static, which this script
# registers with binfmt_misc (mounting it if needed): Debian packages qemu-user-static and binfmt-support. Its
# programs, OpenJDK included, then run in the root under emulation.
# MIRROR defaults to $BCE4J_DEBIAN_MIRROR, else the Debian host this machine's apt uses, else deb.debian.org.
# Idempotent: a complete root (DIR/.bce4j-bullseye-root) is reused as it is; a root left half-made by an
# interrupted run of this script is finished (JDK step) or, where debootstrap itself did not finish, made anew.
# Needs root, debootstrap (Debian package `debootstrap`) and the Debian registry. About a minute (arm64 under
# emulation: about 9 minutes).
set -euo pipefail

usage() { echo "usage: $0 [--arch DEBIAN_ARCH] DIR [DEBIAN_MIRROR_URL]" >&2; exit 2; }
arch=
if [[ ${1:-} == --arch ]]; then arch=${2:-}; [[ -n $arch ]] || usage; shift 2; fi
[[ $# -ge 1 && $# -le 2 ]] || usage
[[ $1 != -* ]] || usage

dir=$1
mirror=${2:-${BCE4J_DEBIAN_MIRROR:-}}
complete_marker=.bce4j-bullseye-root
started_marker=.bce4j-bullseye-root-started
packages_in_debootstrap=libc6-dev,libgomp1
jdk_package=openjdk-17-jre-headless

die() { echo "bullseye-root: $*" >&2; exit 1; }

host_arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
arch=${arch:-$host_arch}
case $arch in
  amd64) multiarch=x86_64-linux-gnu qemu_name= ;;
  arm64) multiarch=aarch64-linux-gnu qemu_name=qemu-aarch64 ;;
  *) die "unsupported architecture $arch (amd64 or arm64)" ;;
esac
[[ $arch != "$host_arch" ]] || qemu_name=
java_home=/usr/lib/jvm/java-17-openjdk-$arch

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap and chroot)"
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install -y debootstrap"
command -v chroot >/dev/null || die "chroot not found (coreutils)"

# A foreign root's programs run through qemu-user-static, registered with binfmt_misc with the F flag (the
# interpreter is opened when registering, so it need not exist inside the root).
if [[ -n $qemu_name ]]; then
  [[ -x /usr/bin/$qemu_name-static ]] || die "/usr/bin/$qemu_name-static not found: apt-get install -y qemu-user-static"
  if [[ ! -e /proc/sys/fs/binfmt_misc/register ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
  fi
  if [[ ! -e /proc/sys/fs/binfmt_misc/$qemu_name ]]; then
    command -v update-binfmts >/dev/null || die "update-binfmts not found: apt-get install -y binfmt-support"
    update-binfmts --enable "$qemu_name" || die "update-binfmts --enable $qemu_name failed"
  fi
  grep -qx enabled "/proc/sys/fs/binfmt_misc/$qemu_name" || die "binfmt_misc entry $qemu_name is disabled"
fi

if [[ -z $mirror ]]; then
  # The host's own Debian mirror: the URIs of the deb822 source naming bookworm, else a one-line source.
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    mirror=$(awk '/^URIs:/ { uri = $2 } /^Suites:/ && / bookworm( |$)/ && uri != "" { print uri; exit }' "$f")
    [[ -n $mirror ]] && break
  done
  if [[ -z $mirror ]]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }') || true
  fi
  mirror=${mirror:-http://deb.debian.org/debian}
fi
mirror=${mirror%/}
# The security suite sits beside the main archive on Debian's hosts: .../debian -> .../debian-security.
security_mirror=${BCE4J_DEBIAN_SECURITY_MIRROR:-${mirror}-security}

source "$(dirname "$0")/chroot-mounts.sh"
trap chroot_unmount_all EXIT
trap 'exit 130' INT TERM

# A mount left under DIR by a killed earlier run would make rm -rf descend into the host's /proc or /dev.
unmount_leftovers() {
  local m
  for m in proc sys dev/pts dev; do
    if mountpoint -q "$dir/$m" 2>/dev/null; then umount "$dir/$m" || umount -l "$dir/$m"; fi
  done
}

is_complete() {
  [[ -f $dir/$complete_marker && -x $dir$java_home/bin/java &&
     -e $dir/usr/lib/$multiarch/libgomp.so.1 && -e $dir/usr/lib/$multiarch/libc_nonshared.a ]]
}

# Debian's development symlinks are absolute (libdl.so -> /lib/<multiarch>/libdl.so.2, and
# /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-2.31.so). The linker follows a symlink through the host's
# file system, not its --sysroot, so such a link would hand it the HOST's library (glibc 2.36's libdl.so.2 and
# libpthread.so.0 are empty stubs). Relative links name the same files inside the chroot and outside it.
relativize_library_links() {
  local link target
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    [[ $target == /* ]] || continue
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$dir$target")" "$link"
  done < <(find "$dir/usr/lib" "$dir/usr/lib64" -maxdepth 2 -type l -lname '/*' -name '*.so*' -print0 2>/dev/null)
}

# A root of another architecture in DIR is an error, not something to finish or reuse.
if [[ -f $dir/usr/bin/dpkg ]]; then
  case $arch in amd64) elf_machine='X86-64' ;; arm64) elf_machine='AArch64' ;; esac
  readelf -h "$dir/usr/bin/dpkg" | grep -q "Machine: *.*$elf_machine" ||
    die "$dir holds a root of another architecture than $arch"
fi
if is_complete; then
  relativize_library_links
  echo "bullseye-root: reusing the complete root in $dir ($(head -1 "$dir/$complete_marker"))"
  exit 0
fi

if [[ -e $dir && -n $(ls -A "$dir" 2>/dev/null) && ! -f $dir/$started_marker && ! -f $dir/$complete_marker ]]; then
  die "$dir exists, is not empty and was not made by this script: give an empty or missing directory"
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
unmount_leftovers

# Stage 1: debootstrap. Its own /debootstrap folder is gone only after a finished run.
if [[ ! -x $dir/usr/bin/apt-get || -d $dir/debootstrap ]]; then
  if [[ -n $(ls -A "$dir") ]]; then
    echo "bullseye-root: removing the unfinished root in $dir"
    find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} +
  fi
  touch "$dir/$started_marker"
  echo "bullseye-root: debootstrap bullseye $arch from $mirror into $dir"
  start=$SECONDS
  if [[ -z $qemu_name ]]; then
    debootstrap --variant=minbase --include="$packages_in_debootstrap" bullseye "$dir" "$mirror"
  else
    debootstrap --arch="$arch" --foreign --variant=minbase --include="$packages_in_debootstrap" bullseye "$dir" \
      "$mirror"
    echo "bullseye-root: debootstrap's first stage took $((SECONDS - start)) s; the second runs under $qemu_name"
    chroot "$dir" /debootstrap/debootstrap --second-stage
  fi
  echo "bullseye-root: debootstrap took $((SECONDS - start)) s"
fi

# Stage 2: the JDK, from bullseye with its updates and security suites (OpenJDK 17 gets its updates there).
write_sources() { # with_security: 1 or 0
  {
    echo "deb $mirror bullseye main"
    echo "deb $mirror bullseye-updates main"
    [[ $1 -eq 0 ]] || echo "deb $security_mirror bullseye-security main"
  } > "$dir/etc/apt/sources.list"
}
write_sources 1
# The registry may serve snapshots whose Release files are past their Valid-Until date.
cat > "$dir/etc/apt/apt.conf.d/99bce4j" <<'EOF'
Acquire::Check-Valid-Until "false";
Acquire::Check-Date "false";
APT::Install-Recommends "false";
EOF
cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true

if [[ ! -x $dir$java_home/bin/java ]] ||
   ! chroot "$dir" dpkg-query -W -f='${Status}\n' "$jdk_package" 2>/dev/null | grep -q '^install ok installed$'; then
  # The JDK's postinst (ca-certificates-java runs java) needs /proc.
  chroot_mount "$dir" proc proc proc
  chroot_mount "$dir" sysfs sysfs sys
  chroot_mount "$dir" bind /dev dev
  chroot_mount "$dir" devpts devpts dev/pts
  echo "bullseye-root: installing $jdk_package in $dir"
  start=$SECONDS
  install_jdk() {
    chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C \
      sh -c "apt-get update -q && apt-get install -y -q $jdk_package && apt-get clean"
  }
  if ! install_jdk; then
    # A registry may list a suite's packages without serving their files (measured: bullseye-security's arm64 ones
    # answer 404 on the registry of these machines); bullseye and bullseye-updates alone have an OpenJDK 17 too.
    echo "bullseye-root: $jdk_package from bullseye-security failed; again from bullseye and bullseye-updates only"
    write_sources 0
    install_jdk
  fi
  echo "bullseye-root: $jdk_package took $((SECONDS - start)) s"
  chroot_unmount_all
fi

relativize_library_links
glibc=$(chroot "$dir" dpkg-query -W -f='${Version}' libc6)
gomp=$(chroot "$dir" dpkg-query -W -f='${Version}' libgomp1)
jdk=$(chroot "$dir" dpkg-query -W -f='${Version}' "$jdk_package")
arch_note=
[[ $arch == amd64 ]] || arch_note=" $arch"
printf 'bullseye%s libc6 %s, libgomp1 %s, %s %s\n' "$arch_note" "$glibc" "$gomp" "$jdk_package" "$jdk" \
  > "$dir/$complete_marker"
rm -f "$dir/$started_marker"
is_complete || die "the root in $dir is still incomplete after installing (see above)"
echo "bullseye-root: complete: $(cat "$dir/$complete_marker")"
