#!/usr/bin/env bash
# Runs one of upstream's KHO/LUO selftest images (built by prepare.sh) on QEMU TCG q35 and checks its pass marker.
#   run-qemu.sh TEST [DIR]     TEST: kho | luo_kexec_simple | luo_multi_session | luo_stress_files | luo_stress_sessions
#                              | liveupdate
# DIR defaults to prepare.sh's output. The serial log goes to ${KHO_LOG_DIR:-${TMPDIR:-/tmp}}/TEST.qemu.log; prints "ok TEST <seconds> s" or
# "not ok TEST ..." and exits 0/1. KHO_QEMU_EXTRA adds QEMU options; KHO_APPEND_EXTRA adds kernel options.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
test=${1:?usage: run-qemu.sh TEST [DIR]}
dir=${2:-$("$here/prepare.sh")}
case $test in
    kho) append="kho=on" marker="KHO restore succeeded" ;;
    luo_*) append="liveupdate=on" marker="TEST PASSED" ;;
    liveupdate) append="liveupdate=on" marker="# Totals: pass:15 fail:0" ;;
    *) echo "run-qemu.sh: unknown test $test" >&2; exit 2 ;;
esac
[[ -f $dir/$test.cpio ]] || { echo "run-qemu.sh: $dir/$test.cpio is missing" >&2; exit 2; }
log="${KHO_LOG_DIR:-${TMPDIR:-/tmp}}/$test.qemu.log"
start=$(date +%s.%N)
# upstream's vmtest.sh gives 30 s; TCG on a loaded 2-core machine gets 120.
timeout 120s qemu-system-x86_64 -machine q35 -m 1G -nographic -no-reboot ${KHO_QEMU_EXTRA:-} \
    -kernel "$dir/bzImage" -initrd "$dir/$test.cpio" \
    -append "console=ttyS0 $append panic=-1 ${KHO_APPEND_EXTRA:-}" </dev/null >"$log" 2>&1 || true
secs=$(echo "$(date +%s.%N) - $start" | bc)
if grep -qF "$marker" "$log"; then
    printf 'ok %s %.1f s\n' "$test" "$secs"
else
    printf 'not ok %s %.1f s # no "%s" in %s\n' "$test" "$secs" "$marker" "$log"
    exit 1
fi
