#!/usr/bin/env bash
# Builds the foreign test kernel with gcc and GNU binutils:
#   OUT/kernel-pvh.elf  ELF64 with a PVH note (no multiboot header, so QEMU takes the PVH path too)
#   OUT/kernel-mb.bin   flat multiboot v1 image (a.out kludge header at offset 0)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUTDIR}"
mkdir -p "$out"
cflags=(-ffreestanding -fno-pic -fno-pie -fno-stack-protector -mno-red-zone -O2 -masm=intel
        -fno-asynchronous-unwind-tables -nostdlib -mcmodel=small)
ldflags=(-T "$here/kernel.ld" -nostdlib -static -no-pie -z max-page-size=4096 --no-warn-rwx-segments)
gcc -c "${cflags[@]}" -o "$out/kernel.o" "$here/kernel.c"
gcc -c -fno-pic -o "$out/start-pvh.o" "$here/start.S"
gcc -c -fno-pic -DWITH_MULTIBOOT -o "$out/start-mb.o" "$here/start.S"
ld "${ldflags[@]}" -o "$out/kernel-pvh.elf" "$out/start-pvh.o" "$out/kernel.o"
ld "${ldflags[@]}" -o "$out/kernel-mb.elf" "$out/start-mb.o" "$out/kernel.o"
objcopy -O binary "$out/kernel-mb.elf" "$out/kernel-mb.bin"
