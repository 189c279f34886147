#!/usr/bin/env bash
# Times the same integer loop (the gcc-built foreign test kernel, loop=N) under KhoEmu and under
# qemu-system-x86_64 (TCG) and prints the ratio. Usage: bench/qemu-ratio.sh [ITERATIONS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-300000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$root/tests/KhoEmu.Machine.Tests/ForeignKernel/build.sh" "$work" >/dev/null
dotnet build -c Release -v q --nologo "$root/emulator/KhoEmu.Cli" >/dev/null
khoemu=("dotnet" "$root/artifacts/bin/KhoEmu.Cli/release/khoemu.dll")

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'; }
q=$(seconds qemu-system-x86_64 -display none -serial stdio -no-reboot -accel tcg \
      -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$work/kernel-pvh.elf" -append "loop=$n")
k=$(seconds "${khoemu[@]}" run --kernel "$work/kernel-pvh.elf" --append "loop=$n")
stats=$("${khoemu[@]}" run --stats --kernel "$work/kernel-pvh.elf" --append "loop=$n" 2>&1 >/dev/null || true)
insns=$(grep -Eo '^khoemu: [0-9]+' <<<"$stats" | grep -Eo '[0-9]+')
echo "loop=$n: $insns guest instructions"
echo "qemu-system-x86_64 (TCG): ${q} s"
echo "khoemu:                   ${k} s"
echo "ratio khoemu/qemu:        $(awk -v k="$k" -v q="$q" 'BEGIN { printf "%.1f", k / q }')"
