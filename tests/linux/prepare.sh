#!/usr/bin/env bash
# Fetches Debian's stock cloud kernel and busybox and builds the Linux check's boot files into a cache outside
# the work tree:
#   bzImage              the kernel package's vmlinuz, unmodified
#   vmlinux              the PVH ELF inside it (the LZ4 payload the setup header points at, decompressed)
#   initrd.cpio.gz       busybox + applet links, /init (init.sh), /bin/longdouble, /etc/longdouble.expected
#   longdouble           the static x87 test program; longdouble.expected is its output on this host's CPU
#   config               the kernel's .config;  versions  the packages used
# Prints the cache directory on stdout (progress goes to stderr). A second run with the same inputs only checks
# the cache. Cache: ${KHOEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/khoemu}/linux/<key>, key = hash of the
# package versions, this script, init.sh, the C sources and the compiler version.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
meta=linux-image-cloud-amd64
busybox_pkg=busybox-static

die() { echo "prepare.sh: $*" >&2; exit 1; }
say() { echo "prepare.sh: $*" >&2; }

for tool in apt-cache apt-get dpkg-deb lz4 cpio gzip gcc sha256sum od flock; do
    command -v "$tool" >/dev/null || die "$tool is missing (install: apt-get install dpkg-dev lz4 cpio gzip gcc libc6-dev util-linux)"
done

root="${KHOEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/khoemu}/linux"
mkdir -p "$root/debs"
# One preparation at a time (CI runs this up front, each test run calls it again).
exec 9>"$root/.lock"
flock 9

# The candidate version of a package, empty when apt knows none (no package lists yet).
candidate() { apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'; }

meta_version=$(candidate "$meta")
if [[ -z $meta_version && $(id -u) -eq 0 ]]; then
    say "no apt candidate for $meta; running apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
    meta_version=$(candidate "$meta")
fi
[[ -n $meta_version ]] || die "apt has no candidate for $meta (run apt-get update as root)"
# The metapackage depends on exactly one versioned image package; follow it so a kernel ABI bump is picked up.
image_pkg=$(apt-cache show "$meta=$meta_version" | awk -F': ' '$1 == "Depends" { print $2; exit }' | tr ',' '\n' |
    sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
[[ -n $image_pkg ]] || die "cannot find the linux-image-* dependency of $meta $meta_version"
image_version=$(candidate "$image_pkg")
[[ -n $image_version ]] || die "apt has no candidate for $image_pkg (dependency of $meta $meta_version)"
busybox_version=$(candidate "$busybox_pkg")
[[ -n $busybox_version ]] || die "apt has no candidate for $busybox_pkg"

versions="$meta $meta_version
$image_pkg $image_version
$busybox_pkg $busybox_version"
key=$( { echo "$versions"; gcc --version | head -n 1; cat "$0" "$here/init.sh" "$here"/*.c; } | sha256sum | cut -c1-16)
out="$root/$key"
if [[ -f $out/complete ]]; then
    say "cached: $out"
    echo "$out"
    exit 0
fi

work="$root/$key.tmp.$$"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# apt-get download saves NAME_VERSION_ARCH.deb (':' in the version as %3a) in the current directory; keep the
# .debs across cache keys so a change of script or /init does not download again.
fetch() { # fetch PACKAGE VERSION -> path of the .deb
    local pkg=$1 ver=$2 file
    file=$(ls "$root/debs/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
    if [[ -z $file ]]; then
        say "downloading $pkg $ver"
        local log
        if ! log=$(cd "$root/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" 2>&1); then
            # apt's "E: Failed to fetch URL  reason" line says what went wrong; the last line if there is none.
            die "cannot download $pkg $ver: $( (grep -m 1 '^E:' <<<"$log" || tail -n 1 <<<"$log") | tr -s ' ')"
        fi
        file=$(ls "$root/debs/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
        [[ -n $file ]] || die "apt-get download $pkg=$ver left no .deb in $root/debs"
    fi
    echo "$file"
}
image_deb=$(fetch "$image_pkg" "$image_version")
busybox_deb=$(fetch "$busybox_pkg" "$busybox_version")

say "extracting $image_pkg $image_version"
dpkg-deb -x "$image_deb" "$work/kernel-pkg" || die "dpkg-deb cannot extract $image_deb"
vmlinuz=$(ls "$work"/kernel-pkg/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
[[ -n $vmlinuz ]] || die "$image_deb has no /boot/vmlinuz-*"
cp "$vmlinuz" "$work/bzImage"
cp "$work"/kernel-pkg/boot/config-* "$work/config"
rm -rf "$work/kernel-pkg"

# The PVH vmlinux: Documentation/x86/boot.rst. setup_sects (0x1F1) sectors of real-mode setup follow the boot
# sector; payload_offset (0x248) counts from the protected-mode code behind them, payload_length (0x24C) covers
# the compressed kernel plus the 4-byte little-endian uncompressed size the build appends (not LZ4 data).
u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
[[ $(od -An -c -j $((0x202)) -N4 "$work/bzImage" | tr -d ' ') == HdrS ]] || die "$vmlinuz is not a bzImage (no HdrS)"
setup_sects=$(u8 "$work/bzImage" $((0x1F1)))
((setup_sects == 0)) && setup_sects=4
payload_offset=$(u32 "$work/bzImage" $((0x248)))
payload_length=$(u32 "$work/bzImage" $((0x24C)))
start=$(((setup_sects + 1) * 512 + payload_offset))
magic=$(od -An -tx4 -j "$start" -N4 "$work/bzImage" | tr -d ' ')
[[ $magic == 184c2102 ]] || die "the bzImage payload is not LZ4 legacy (magic $magic; CONFIG_KERNEL_LZ4 expected)"
dd if="$work/bzImage" iflag=skip_bytes,count_bytes skip="$start" count=$((payload_length - 4)) bs=1M status=none |
    lz4 -d -q -c >"$work/vmlinux" ||
    die "lz4 cannot decompress the bzImage payload"
want_size=$(od -An -tu4 -j $((start + payload_length - 4)) -N4 "$work/bzImage" | tr -d ' ')
[[ $(stat -c %s "$work/vmlinux") == "$want_size" ]] || die "decompressed vmlinux is $(stat -c %s "$work/vmlinux") bytes, the bzImage says $want_size"
[[ $(od -An -c -N4 "$work/vmlinux" | tr -d ' ') == 177ELF ]] || die "the decompressed payload is not an ELF"

say "building the test program and the initramfs"
gcc -static -O2 -Wall -Wextra -Werror -o "$work/longdouble" "$here/longdouble.c" -lm
"$work/longdouble" >"$work/longdouble.expected"

dpkg-deb -x "$busybox_deb" "$work/busybox-pkg" || die "dpkg-deb cannot extract $busybox_deb"
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,dev,etc,proc,sys,tmp,root}
cp "$work/busybox-pkg/bin/busybox" "$rootfs/bin/busybox"
rm -rf "$work/busybox-pkg"
for applet in $("$rootfs/bin/busybox" --list); do
    [[ -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
done
ln -s bin "$rootfs/sbin"
install -m 0755 "$here/init.sh" "$rootfs/init"
install -m 0755 "$work/longdouble" "$rootfs/bin/longdouble"
install -m 0644 "$work/longdouble.expected" "$rootfs/etc/longdouble.expected"
# The kernel opens /dev/console for init before anything is mounted; its built-in initramfs usually has the
# node, this makes sure (a device node needs root; /init re-opens the console after mounting devtmpfs anyway).
if [[ $(id -u) -eq 0 ]]; then mknod -m 0600 "$rootfs/dev/console" c 5 1; fi
# Reproducible archive: fixed order, owner and times.
find "$rootfs" -exec touch -h -d @0 {} +
(cd "$rootfs" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 -n >"$work/initrd.cpio.gz"
rm -rf "$rootfs"

echo "$versions" >"$work/versions"
rm -rf "$out"
touch "$work/complete"
mv "$work" "$out"
trap - EXIT
say "prepared $out ($image_pkg $image_version, $busybox_pkg $busybox_version)"
echo "$out"
