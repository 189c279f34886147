#!/usr/bin/env bash
# Boots Debian's stock cloud kernel (the files tests/linux/prepare.sh prepares) through the check /init to its
# power-off, on KhoEmu and on QEMU TCG, interleaved, and prints instructions and wall time of every run.
# Usage: bench/linux-boot.sh [REPETITIONS (3)] [bzImage|vmlinux (bzImage)]; SMP=N boots both with -smp N (default 1).
# KhoEmu's figures come from `khoemu run --stats` (instructions, emulation wall time, MIPS); QEMU's wall time is
# that of the whole process, and its instruction count comes from one extra run with a counting TCG plugin
# (bench/qemu-insn-count.c), kept out of the timed runs because instrumentation slows QEMU down.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reps="${1:-3}"
image="${2:-bzImage}"
[[ $image == bzImage || $image == vmlinux ]] || { echo "linux-boot.sh: the image is bzImage or vmlinux, not $image" >&2; exit 2; }

files=$("$root/tests/linux/prepare.sh")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet build -c Release -v q --nologo "$root/emulator/KhoEmu.Cli" >/dev/null
khoemu=(dotnet "$root/artifacts/bin/KhoEmu.Cli/release/khoemu.dll")

rtc=2026-01-02T03:04:05
append="console=ttyS0 khoemu.rtc=$rtc"
smp="${SMP:-1}"
k_args=(run --no-input --stats -smp "$smp" -m 1G --kernel "$files/$image" -initrd "$files/initrd.cpio.gz" --append "$append" -rtc "base=$rtc")
q_args=(-machine q35 -smp "$smp" -m 1G -nographic -no-reboot -device intel-iommu -kernel "$files/$image" -initrd "$files/initrd.cpio.gz"
        -rtc "base=$rtc" -append "$append")

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
passed() { grep -Eo '# linux-check: [0-9]+ passed, [0-9]+ failed' "$1" | sed 's/# linux-check: //' || echo "no report"; }

echo "$(tr '\n' ' ' <"$files/versions"); $image; -smp $smp; $reps repetitions"
for i in $(seq 1 "$reps"); do
    t0=$(now)
    set +e
    "${khoemu[@]}" "${k_args[@]}" >"$work/k.out" 2>"$work/k.err" </dev/null
    rc=$?
    set -e
    total=$(since "$t0")
    # The --stats line ends in the exit code; without one, say how the process ended.
    stats=$(grep -E '^khoemu: [0-9]+ instructions' "$work/k.err" || echo "khoemu: no --stats line, exit $rc: $(tail -n 1 "$work/k.err")")
    printf 'khoemu run %d: %s; process %s s; checks: %s\n' "$i" "${stats#khoemu: }" "$total" "$(passed "$work/k.out")"
    t0=$(now)
    set +e
    qemu-system-x86_64 "${q_args[@]}" >"$work/q.out" 2>&1 </dev/null
    rc=$?
    set -e
    printf 'qemu   run %d: %s s wall; exit %d; checks: %s\n' "$i" "$(since "$t0")" "$rc" "$(passed "$work/q.out")"
done

gcc -shared -fPIC -O2 -o "$work/libinsncount.so" "$root/bench/qemu-insn-count.c"
qemu-system-x86_64 -plugin "$work/libinsncount.so" "${q_args[@]}" >"$work/q.out" 2>"$work/q.err" </dev/null || true
echo "qemu   instructions (counting plugin, untimed run): $(grep -Eo '^insns: [0-9]+' "$work/q.err" | grep -Eo '[0-9]+' || echo unknown)"
