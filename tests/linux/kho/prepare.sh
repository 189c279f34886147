#!/usr/bin/env bash
# Builds a Linux guest with Kexec HandOver (KHO) and Live Update Orchestrator (LUO) from Debian's linux-source
# package, and upstream's KHO/LUO selftest images for it, into a cache outside the work tree:
#   bzImage, vmlinux, config      the kernel (tinyconfig + kho.config), built with make -j2
#   kho.cpio                      tools/testing/selftests/kho: nolibc /init, the next kernel and its stage-2 initrd
#   luo_<test>.cpio               tools/testing/selftests/liveupdate kexec tests, same layout
#   liveupdate.cpio               the kselftest-harness liveupdate test with liveupdate-init.c as /init (no kexec)
#   versions                      the package and version used
# Prints the cache directory on stdout (progress goes to stderr). A second run with the same inputs only checks
# the cache. Cache: ${KHOEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/khoemu}/linux-kho/<key>, key = hash of the
# package version, kho.config, this script and liveupdate-init.c. The kernel tree lives in .../linux-kho/tree-<kkey> (kkey = hash of
# the version, kho.config and the kernel section of this script), so editing the test images does not rebuild it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
pkg=linux-source-7.3
version=7.3.4-1~bpo13+1
suite=trixie-backports
archive=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
jobs=${KHO_JOBS:-2}

die() { echo "prepare.sh: $*" >&2; exit 1; }
say() { echo "prepare.sh: $*" >&2; }

for tool in apt-get dpkg-deb tar xz gcc make flex bison bc rsync cpio sha256sum flock; do
    command -v "$tool" >/dev/null ||
        die "$tool is missing (install: apt-get install build-essential flex bison bc libelf-dev libssl-dev cpio kmod xz-utils rsync)"
done
for hdr in /usr/include/libelf.h /usr/include/openssl/ssl.h; do
    [[ -f $hdr ]] || die "$hdr is missing (install: apt-get install libelf-dev libssl-dev)"
done

root="${KHOEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/khoemu}/linux-kho"
mkdir -p "$root/debs"
exec 9>"$root/.lock"
flock 9

key=$( { echo "$pkg $version"; cat "$here/kho.config" "$0" "$here/liveupdate-init.c"; } | sha256sum | cut -c1-16)
out="$root/$key"
if [[ -f $out/complete ]]; then
    say "cached: $out"
    echo "$out"
    exit 0
fi

# --- kernel ---
# A private apt configuration: its own sources list, package lists, cache and an empty dpkg status, so the
# system's sources and state stay as they are. The archive is the one the system's apt already uses.
fetch_source() {
    local deb apt="$root/apt"
    deb=$(ls "$root/debs/${pkg}_${version/:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
    if [[ -n $deb ]]; then echo "$deb"; return; fi
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d"
    echo "deb [signed-by=$keyring] $archive $suite main" >"$apt/sources.list"
    : >"$apt/status"
    local opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts="$apt/sources.list.d"
        -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o Dir::State::status="$apt/status"
        -o APT::Sandbox::User=root -q)
    local log
    say "apt-get update ($archive $suite, private lists in $apt)"
    log=$(apt-get "${opts[@]}" update 2>&1) || die "apt-get update for $suite failed: $(tail -n 1 <<<"$log")"
    say "downloading $pkg $version"
    log=$(cd "$root/debs" && apt-get "${opts[@]}" download "$pkg=$version" 2>&1) ||
        die "cannot download $pkg $version: $( (grep -m 1 '^E:' <<<"$log" || tail -n 1 <<<"$log") | tr -s ' ')"
    deb=$(ls "$root/debs/${pkg}_${version/:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
    [[ -n $deb ]] || die "apt-get download $pkg=$version left no .deb in $root/debs"
    echo "$deb"
}

# tinyconfig + kho.config + olddefconfig; every fragment line must survive (a dependency missing from the
# fragment makes olddefconfig drop a symbol silently).
configure() {
    local tree=$1 line sym
    make -C "$tree" -s tinyconfig >&2
    "$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" "$tree/.config" "$here/kho.config" >/dev/null
    make -C "$tree" -s olddefconfig >&2
    local lost=()
    while IFS= read -r line; do
        case $line in
            CONFIG_*=*) grep -qxF "$line" "$tree/.config" || lost+=("$line") ;;
            "# CONFIG_"*" is not set")
                sym=${line#\# }; sym=${sym%% *}
                grep -q "^$sym=" "$tree/.config" && lost+=("$line") ;;
        esac
    done <"$here/kho.config"
    ((${#lost[@]} == 0)) || die "olddefconfig dropped: ${lost[*]}"
}

build_kernel() { # build_kernel TREE
    local tree=$1 deb
    if [[ ! -f $tree/.unpacked ]]; then
        deb=$(fetch_source)
        rm -rf "$tree" "$tree.x"
        mkdir -p "$tree.x"
        say "unpacking $deb"
        dpkg-deb -x "$deb" "$tree.x/pkg" || die "dpkg-deb cannot extract $deb"
        local tarball
        tarball=$(ls "$tree.x"/pkg/usr/src/linux-source-*.tar.* | head -n 1) || die "$deb has no /usr/src tarball"
        tar -C "$tree.x" -xaf "$tarball" || die "cannot unpack $tarball"
        mv "$tree.x"/linux-source-* "$tree"
        rm -rf "$tree.x"
        touch "$tree/.unpacked"
    fi
    if [[ ! -f $tree/.configured ]]; then
        say "configuring (tinyconfig + kho.config)"
        configure "$tree"
        touch "$tree/.configured"
    fi
    say "make -j$jobs bzImage vmlinux in $tree (about 6 CPU-minutes)"
    local t0=$SECONDS
    make -C "$tree" -s -j"$jobs" bzImage vmlinux >&2 || die "kernel build failed in $tree"
    say "kernel built in $((SECONDS - t0)) s"
}
# --- end kernel ---

kkey=$( { echo "$pkg $version"; cat "$here/kho.config"; sed -n '/^# --- kernel ---$/,/^# --- end kernel ---$/p' "$0"; } |
    sha256sum | cut -c1-16)
tree="$root/tree-$kkey"
build_kernel "$tree"

work="$root/$key.tmp.$$"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cp "$tree/arch/x86/boot/bzImage" "$tree/vmlinux" "$tree/.config" "$work/"
mv "$work/.config" "$work/config"

# The user-space headers the nolibc programs compile against (upstream's vmtest.sh does the same).
hdr="$work/hdr"
make -C "$tree" -s headers_install INSTALL_HDR_PATH="$hdr" >&2 || die "make headers_install failed (is rsync installed?)"
gen="$tree/usr/gen_init_cpio"
[[ -x $gen ]] || die "$gen was not built (CONFIG_BLK_DEV_INITRD?)"
st="$tree/tools/testing/selftests"
nolibc="$tree/tools/include/nolibc"
kernel="$work/bzImage"

# tools/testing/selftests/kho/vmtest.sh: a nolibc /init that checks the KHO test state, kexecs /kernel (itself)
# with the same command line, and checks the state survived ("KHO restore succeeded").
say "building the kho image"
gcc -s -static -Os -nostdinc -nostdlib -fno-asynchronous-unwind-tables -fno-ident \
    -I "$hdr/include" -I "$nolibc" -o "$work/kho-init" "$st/kho/init.c" || die "cannot build kho/init.c"
cat >"$work/kho.list" <<LIST
dir /dev 0755 0 0
dir /proc 0755 0 0
dir /debugfs 0755 0 0
nod /dev/console 0600 0 0 c 5 1
file /init $work/kho-init 0755 0 0
file /kernel $kernel 0644 0 0
LIST
"$gen" "$work/kho.list" >"$work/kho.cpio" || die "gen_init_cpio failed for kho"

# tools/testing/selftests/liveupdate/vmtest.sh: a nolibc /init runs /test_binary -s 1, kexecs /kernel with
# /initrd.img (the same /init and test binary) and "luo_stage=2" appended, then runs /test_binary -s 2.
say "building the liveupdate images"
gcc -s -static -Os -nostdinc -nostdlib -fno-asynchronous-unwind-tables -fno-ident -fno-stack-protector \
    -I "$hdr/include" -I "$nolibc" -o "$work/luo-init" "$st/liveupdate/init.c" || die "cannot build liveupdate/init.c"
for test in luo_kexec_simple luo_multi_session luo_stress_files luo_stress_sessions; do
    gcc -static -O2 -nostdinc -nostdlib -I "$hdr/include" -I "$nolibc" -I "$st/liveupdate/lib/include" \
        -o "$work/$test" "$st/liveupdate/$test.c" "$st/liveupdate/lib/lu_utils.c" || die "cannot build $test"
    cat >"$work/$test.inner.list" <<LIST
dir /dev 0755 0 0
dir /proc 0755 0 0
dir /debugfs 0755 0 0
nod /dev/console 0600 0 0 c 5 1
file /init $work/luo-init 0755 0 0
file /test_binary $work/$test 0755 0 0
LIST
    "$gen" "$work/$test.inner.list" >"$work/$test.inner.cpio" || die "gen_init_cpio failed for $test (stage 2)"
    cat >"$work/$test.list" <<LIST
dir /dev 0755 0 0
dir /proc 0755 0 0
dir /debugfs 0755 0 0
nod /dev/console 0600 0 0 c 5 1
file /init $work/luo-init 0755 0 0
file /kernel $kernel 0644 0 0
file /test_binary $work/$test 0755 0 0
file /initrd.img $work/$test.inner.cpio 0644 0 0
LIST
    "$gen" "$work/$test.list" >"$work/$test.cpio" || die "gen_init_cpio failed for $test"
done
# tools/testing/selftests/liveupdate/liveupdate.c: the kselftest-harness test (15 cases on /dev/liveupdate, no
# kexec). Upstream runs it from run_kselftest.sh on a booted system, so it has no initramfs; liveupdate-init.c is a
# small /init that mounts devtmpfs, proc and debugfs, runs it and reboots. Both are static glibc programs: the
# harness needs more libc than nolibc has (and liveupdate.c needs _GNU_SOURCE for it); lu_utils.c defines
# _GNU_SOURCE itself, so it is compiled apart.
say "building the liveupdate kselftest image"
gcc -c -O2 -Wall -isystem "$hdr/include" -I "$st/liveupdate/lib/include" \
    -o "$work/lu_utils.o" "$st/liveupdate/lib/lu_utils.c" || die "cannot build liveupdate/lib/lu_utils.c"
gcc -static -s -O2 -D_GNU_SOURCE -Wall -Wno-unused-function -isystem "$hdr/include" -I "$st/liveupdate/lib/include" \
    -o "$work/liveupdate" "$st/liveupdate/liveupdate.c" "$work/lu_utils.o" || die "cannot build liveupdate/liveupdate.c"
gcc -static -s -O2 -Wall -o "$work/liveupdate-init" "$here/liveupdate-init.c" || die "cannot build liveupdate-init.c"
cat >"$work/liveupdate.list" <<LIST
dir /dev 0755 0 0
dir /proc 0755 0 0
dir /debugfs 0755 0 0
nod /dev/console 0600 0 0 c 5 1
file /init $work/liveupdate-init 0755 0 0
file /liveupdate $work/liveupdate 0755 0 0
LIST
"$gen" "$work/liveupdate.list" >"$work/liveupdate.cpio" || die "gen_init_cpio failed for liveupdate"
rm -f "$work/lu_utils.o"

rm -rf "$hdr" "$work"/*.list "$work"/*.inner.cpio

echo "$pkg $version" >"$work/versions"
rm -rf "$out"
touch "$work/complete"
mv "$work" "$out"
trap - EXIT
say "prepared $out"
echo "$out"
