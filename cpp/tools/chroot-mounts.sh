# shellcheck shell=bash
# Mounts inside a chroot that are undone on exit, for the scripts beside this file (sourced, not run).
#
#   source "$(dirname "$0")/chroot-mounts.sh"
#   trap chroot_unmount_all EXIT
#   chroot_mount "$root" proc proc proc        # FSTYPE SOURCE TARGET (relative to the root)
#   chroot_mount "$root" bind /dev dev         # a bind mount
#
# Each mount is this process's own, stacked on whatever is mounted there already (a concurrent run keeps its
# own), and chroot_unmount_all undoes exactly these, in reverse order.

chroot_mounted=()

chroot_mount() {  # ROOT FSTYPE|bind SOURCE TARGET
  local target=$1/$4
  mkdir -p "$target"
  if [[ $2 == bind ]]; then mount --bind "$3" "$target"; else mount -t "$2" "$3" "$target"; fi
  chroot_mounted+=("$target")
}

chroot_unmount_all() {
  local i
  for ((i = ${#chroot_mounted[@]} - 1; i >= 0; i--)); do
    umount "${chroot_mounted[i]}" 2>/dev/null || umount -l "${chroot_mounted[i]}" 2>/dev/null ||
      echo "$(basename "$0"): could not unmount ${chroot_mounted[i]}" >&2
  done
  chroot_mounted=()
}
