#!/bin/sh
# /init of the Linux check initramfs (busybox sh, PID 1). Checks what a stock distribution kernel must find on
# the q35 board (x87 FPU, CMOS RTC time, the ACPI tables, the I/O APIC, VT-d, a real clocksource, x87 maths
# in user space), prints one KTAP line per check on the console, then powers the machine off.
# The KTAP lines carry no timing or addresses, so they are the same on every machine that passes; the
# details (what was seen) go on "# " diagnostic lines.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
# Later kernel messages (clocksource switches, crng) would otherwise land in the middle of the report.
dmesg -n 1

total=15
n=0
failed=0
echo "KTAP version 1"
echo "1..$total"

# ok NAME | not_ok NAME REASON
ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $1 # $2"; }
check() { # check NAME REASON COMMAND...: ok when COMMAND succeeds
    name=$1 reason=$2
    shift 2
    if "$@"; then ok "$name"; else not_ok "$name" "$reason"; fi
}

dmesg >/tmp/dmesg
# Kernel command line value of KEY=VALUE (the test harness adds khoemu.rtc=...; the kernel ignores dotted names).
cmdline_value() {
    for word in $(cat /proc/cmdline); do
        case $word in "$1="*) echo "${word#*=}"; return 0 ;; esac
    done
    return 1
}

# 1. The CPU reports an x87 FPU (CPUID.1:EDX bit 0); the kernel refuses to boot without one.
grep '^flags' /proc/cpuinfo | head -n 1 | sed 's/^/# /'
echo "# processors: $(grep -c '^processor' /proc/cpuinfo)"
check "cpuinfo lists fpu" "no fpu flag in /proc/cpuinfo" sh -c "grep '^flags' /proc/cpuinfo | grep -qw fpu"

# 2. The wall clock came from the CMOS RTC: within a few minutes after the configured -rtc base.
rtc_date_ok() {
    want=$(cmdline_value khoemu.rtc) || { reason="no khoemu.rtc=YYYY-MM-DDTHH:MM:SS on the kernel command line"; return 1; }
    want_s=$(date -u -d "$(echo "$want" | tr T ' ')" +%s) || { reason="cannot parse khoemu.rtc=$want"; return 1; }
    now_s=$(date -u +%s)
    echo "# date: $(date -u '+%Y-%m-%dT%H:%M:%S'), rtc base $want, $((now_s - want_s)) s later"
    [ -r /sys/class/rtc/rtc0/name ] && echo "# rtc0: $(cat /sys/class/rtc/rtc0/name)"
    reason="date is $((now_s - want_s)) s from the RTC base $want (allowed 0..300)"
    [ $((now_s - want_s)) -ge 0 ] && [ $((now_s - want_s)) -le 300 ]
}
if rtc_date_ok; then ok "date matches rtc base"; else not_ok "date matches rtc base" "$reason"; fi

# 3-10. The ACPI tables the kernel announces ("ACPI: FACP 0x... ..."), one line per table. The root table is the
#       one the RSDP's revision names (ACPI 6.5, 5.2.5.3): the XSDT from revision 2 on, else the RSDT (QEMU 7.2's
#       q35 tables are revision 0 with an RSDT).
grep 'ACPI: [A-Z0-9]\{4\} 0x' /tmp/dmesg | sed 's/^\[[^]]*\] */# /'
check "acpi table RSDP" "no 'ACPI: RSDP' line in dmesg" grep -q "ACPI: RSDP 0x" /tmp/dmesg
rsdp_revision=$(sed -n 's/.*ACPI: RSDP 0x[0-9A-Fa-f]* [0-9A-Fa-f]* (v\([0-9]*\).*/\1/p' /tmp/dmesg | head -n 1)
root_table=RSDT
[ "${rsdp_revision:-0}" -ge 2 ] 2>/dev/null && root_table=XSDT
echo "# RSDP revision ${rsdp_revision:-unknown}: root table $root_table"
check "acpi root table" "no 'ACPI: $root_table' line in dmesg (RSDP revision ${rsdp_revision:-unknown})" \
    grep -q "ACPI: $root_table 0x" /tmp/dmesg
for table in FACP DSDT APIC MCFG HPET DMAR; do
    check "acpi table $table" "no 'ACPI: $table' line in dmesg" grep -q "ACPI: $table 0x" /tmp/dmesg
done

# 11. Nothing in the firmware tables upset the kernel.
grep -E 'ACPI Error|ACPI Warning|ACPI BIOS Error|\[Firmware Bug\]' /tmp/dmesg >/tmp/acpi-errors
sed 's/^\[[^]]*\] */# /' /tmp/acpi-errors | head -n 20
check "no acpi or firmware errors" "$(wc -l </tmp/acpi-errors) error lines in dmesg" test ! -s /tmp/acpi-errors

# 12. The I/O APIC from the MADT is in use and interrupts are routed through it.
grep 'IOAPIC\[0\]' /tmp/dmesg | sed 's/^\[[^]]*\] */# /'
grep 'IO-APIC' /proc/interrupts | head -n 4 | sed 's/^/# /'
check "ioapic in use" "no IOAPIC[0] in dmesg or no IO-APIC interrupt in /proc/interrupts" \
    sh -c "grep -q 'IOAPIC\[0\]' /tmp/dmesg && grep -q 'IO-APIC' /proc/interrupts"

# 13. The DMAR table was parsed: the VT-d unit is visible to the kernel.
grep 'DMAR:' /tmp/dmesg | head -n 4 | sed 's/^\[[^]]*\] */# /'
check "dmar found" "no 'DMAR: ... DRHD base' line in dmesg" grep -q 'DMAR: .*DRHD base' /tmp/dmesg

# 14. A hardware clocksource (TSC, HPET or the ACPI PM timer), not the tick counter.
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
echo "# clocksource: $cs (available: $(cat /sys/devices/system/clocksource/clocksource0/available_clocksource 2>/dev/null))"
case $cs in
    "" ) not_ok "clocksource is not jiffies" "no current_clocksource" ;;
    *jiffies*) not_ok "clocksource is not jiffies" "current clocksource is $cs" ;;
    *) ok "clocksource is not jiffies" ;;
esac

# 15. x87 maths in user space: the same static binary's output on the host CPU is the reference (exact, except
#     1 ulp for results of the x87 transcendental instructions, which the SDM does not pin down further).
/bin/longdouble --check /etc/longdouble.expected >/tmp/longdouble.out 2>&1
status=$?
sed 's/^/# longdouble: /' /tmp/longdouble.out | head -n 41
if [ $status -eq 0 ]; then ok "long double matches host"; else not_ok "long double matches host" "$(tail -n 1 /tmp/longdouble.out)"; fi

[ "$n" -eq "$total" ] || echo "# ran $n checks, planned $total"
echo "# linux-check: $((n - failed)) passed, $failed failed"
poweroff -f
# poweroff -f returns only if the machine did not turn off.
echo "# poweroff -f returned: the machine did not power off"
while :; do sleep 3600; done
