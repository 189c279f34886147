#!/usr/bin/env bash
# Runs upstream Linux's six KHO/LUO selftests (the images tests/linux/kho/prepare.sh builds) on KhoEmu (Release,
# through `khoemu test linux-TEST`, one CPU, -no-reboot) and on QEMU TCG (q35, 1 GiB, one CPU, -no-reboot, the same
# command line), one after the other, and prints per test: result, guest instructions and wall time on each.
# Usage: bench/linux-kho.sh [TEST...]   (default: all six; TEST without the linux- prefix)
# KhoEmu's instructions and wall time are the harness's (emulation only); "process" adds .NET start-up and reading
# the images. QEMU's wall time is that of the whole process; its instruction count comes from one extra run per
# test with a counting TCG plugin (bench/qemu-insn-count.c), kept out of the timed run because instrumentation
# slows QEMU down. KHO_APPEND_EXTRA adds kernel options on both (e.g. kho=off).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tests=("$@")
((${#tests[@]})) || tests=(kho luo_kexec_simple luo_multi_session luo_stress_files luo_stress_sessions liveupdate)
extra=${KHO_APPEND_EXTRA:-}

guest=$("$root/tests/linux/kho/prepare.sh")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet build -c Release -v q --nologo "$root/emulator/KhoEmu.Cli" >/dev/null
khoemu=(dotnet "$root/artifacts/bin/KhoEmu.Cli/release/khoemu.dll")
gcc -shared -fPIC -O2 -o "$work/libinsncount.so" "$root/bench/qemu-insn-count.c"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
append_for() { case $1 in kho) echo "console=ttyS0 kho=on panic=-1 $extra" ;; *) echo "console=ttyS0 liveupdate=on panic=-1 $extra" ;; esac; }
marker_for() { case $1 in kho) echo "KHO restore succeeded" ;; liveupdate) echo "# Totals: pass:15 fail:0" ;; *) echo "TEST PASSED" ;; esac; }

echo "$(tr '\n' ' ' <"$guest/versions"); guest $guest; one CPU; host $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-20s | %-6s %14s %9s %9s %6s | %-6s %14s %8s | %s\n' test khoemu instructions "wall s" "process s" MIPS qemu instructions "wall s" "wall ratio"
for t in "${tests[@]}"; do
    t0=$(now)
    set +e
    "${khoemu[@]}" test --linux-guest "$guest" ${extra:+--append "$extra"} "linux-$t" >"$work/k.out" 2>&1 </dev/null
    rc=$?
    set -e
    kproc=$(since "$t0")
    line=$(grep -E "^# linux-$t: [0-9]+ instructions in" "$work/k.out" || true)
    kins=$(awk '{print $3}' <<<"$line")
    kwall=$(awk '{print $6}' <<<"$line")
    kres=$([[ $rc == 0 ]] && echo pass || echo FAIL)
    kmips=$(awk -v i="${kins:-0}" -v w="${kwall:-0}" 'BEGIN { if (w > 0) printf "%.1f", i / w / 1e6; else print "-" }')

    q_args=(-machine q35 -m 1G -nographic -no-reboot -kernel "$guest/bzImage" -initrd "$guest/$t.cpio" -append "$(append_for "$t")")
    t0=$(now)
    timeout 300s qemu-system-x86_64 "${q_args[@]}" >"$work/q.out" 2>&1 </dev/null || true
    qwall=$(since "$t0")
    qres=$(grep -qF "$(marker_for "$t")" "$work/q.out" && echo pass || echo FAIL)
    timeout 600s qemu-system-x86_64 -plugin "$work/libinsncount.so" "${q_args[@]}" >/dev/null 2>"$work/q.err" </dev/null || true
    qins=$(grep -Eo '^insns: [0-9]+' "$work/q.err" | grep -Eo '[0-9]+' || echo "-")
    ratio=$(awk -v k="${kwall:-0}" -v q="$qwall" 'BEGIN { if (q > 0 && k > 0) printf "%.1fx", k / q; else print "-" }')
    printf '%-20s | %-6s %14s %9s %9s %6s | %-6s %14s %8s | %s\n' "$t" "$kres" "${kins:--}" "${kwall:--}" "$kproc" "$kmips" \
        "$qres" "$qins" "$qwall" "$ratio"
    [[ $kres == pass ]] || { echo "# khoemu output of $t:"; sed 's/^/#   /' "$work/k.out" | tail -n 30; }
done
