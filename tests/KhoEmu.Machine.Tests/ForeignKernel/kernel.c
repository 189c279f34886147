/*
 * Foreign test kernel: written against the hardware interfaces only (COM1, isa-debug-exit, PIT/PIC,
 * page tables, IDT), built with gcc, and expected to print exactly the same lines on KhoEmu and on QEMU.
 * Every check prints "ok" or "FAIL"; the exit value written to isa-debug-exit is 0x21 when all passed.
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long i64;
typedef unsigned long size_t;

struct frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error, rip, cs, rflags, rsp, ss;
};

extern u64 pml4[512], pdpt[512];
extern const u64 vector_table[48];
extern u64 try_rsp, fault_vector;
extern void try_landing(void);
long try_call(void (*fn)(void));

static int failures;
static volatile u64 ticks;
static u64 fault_error, fault_cr2;

static inline void outb(u16 port, u8 v) { __asm__ volatile("out dx, al" ::"d"(port), "a"(v)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("in al, dx" : "=a"(v) : "d"(port)); return v; }
static inline void outl(u16 port, u32 v) { __asm__ volatile("out dx, eax" ::"d"(port), "a"(v)); }

/* ---- console ---- */
static void putc(char c)
{
    while (!(inb(0x3F8 + 5) & 0x20)) { }
    outb(0x3F8, (u8)c);
}
static void puts(const char *s) { while (*s) { if (*s == '\n') putc('\r'); putc(*s++); } }
static void putdec(i64 v)
{
    char buf[24];
    int i = 0;
    u64 u = v < 0 ? -(u64)v : (u64)v;
    if (v < 0) putc('-');
    do { buf[i++] = (char)('0' + u % 10); u /= 10; } while (u);
    while (i) putc(buf[--i]);
}
static void puthex(u64 v)
{
    puts("0x");
    for (int s = 60; s >= 0; s -= 4) putc("0123456789abcdef"[(v >> s) & 15]);
}
static void check(const char *name, int ok)
{
    puts(name);
    puts(ok ? ": ok\n" : ": FAIL\n");
    if (!ok) failures++;
}
static void __attribute__((noreturn)) exit_with(u32 v)
{
    outl(0xF4, v);
    for (;;) __asm__ volatile("cli; hlt");
}

/* ---- string instructions ---- */
static void *rep_movsb(void *d, const void *s, size_t n)
{
    void *r = d;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return r;
}
static void rep_stosq(u64 *d, u64 v, size_t n) { __asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(v) : "memory"); }
static void movsb_backward(u8 *d, const u8 *s, size_t n)
{
    const u8 *se = s + n - 1;
    u8 *de = d + n - 1;
    __asm__ volatile("std; rep movsb; cld" : "+D"(de), "+S"(se), "+c"(n) : : "memory");
}
static int repe_cmpsb(const void *a, const void *b, size_t n)
{
    u8 eq;
    __asm__ volatile("repe cmpsb; sete %3" : "+D"(a), "+S"(b), "+c"(n), "=q"(eq) : : "memory", "cc");
    return eq;
}
static size_t repne_scasb_len(const char *s)
{
    size_t n = (size_t)-1;
    __asm__ volatile("repne scasb" : "+D"(s), "+c"(n) : "a"(0) : "memory", "cc");
    return ~n - 1;
}
void *memcpy(void *d, const void *s, size_t n) { return rep_movsb(d, s, n); }
void *memset(void *d, int c, size_t n)
{
    void *r = d;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}

/* ---- interrupts ---- */
struct idt_entry { u16 off0, sel; u8 ist, type; u16 off1; u32 off2, zero; } __attribute__((packed));
static struct idt_entry idt[48] __attribute__((aligned(16)));

static void idt_init(void)
{
    for (int v = 0; v < 48; v++) {
        u64 a = vector_table[v];
        idt[v] = (struct idt_entry){ (u16)a, 0x08, 0, 0x8E, (u16)(a >> 16), (u32)(a >> 32), 0 };
    }
    struct { u16 limit; u64 base; } __attribute__((packed)) d = { sizeof idt - 1, (u64)idt };
    __asm__ volatile("lidt %0" ::"m"(d));
}

void trap(struct frame *f)
{
    if (f->vector == 32) {
        ticks++;
        outb(0x20, 0x20);
        return;
    }
    if (f->vector >= 32) { outb(0x20, 0x20); return; }
    if (try_rsp) {
        u64 cr2;
        __asm__ volatile("mov %0, cr2" : "=r"(cr2));
        fault_vector = f->vector;
        fault_error = f->error;
        fault_cr2 = cr2;
        f->rip = (u64)try_landing;
        f->rsp = try_rsp;
        return;
    }
    puts("unexpected exception ");
    putdec((i64)f->vector);
    puts(" at ");
    puthex(f->rip);
    puts("\n");
    exit_with(0x7E);
}

static void pic_pit_init(void)
{
    outb(0x20, 0x11); outb(0xA0, 0x11);     /* ICW1 */
    outb(0x21, 32);   outb(0xA1, 40);       /* vector bases */
    outb(0x21, 4);    outb(0xA1, 2);        /* cascade */
    outb(0x21, 1);    outb(0xA1, 1);        /* 8086 mode */
    outb(0x21, 0xFE); outb(0xA1, 0xFF);     /* only IRQ0 */
    outb(0x43, 0x34);                       /* PIT channel 0, mode 2 */
    outb(0x40, 0xA9); outb(0x40, 0x04);     /* divisor 1193: 1 kHz */
}

/* ---- faulting probes ---- */
static volatile u64 sink;
static volatile u64 zero;
static void do_div0(void) { sink = 100 / zero; }
static void do_ud2(void) { __asm__ volatile("ud2"); }
static void do_int3(void) { __asm__ volatile("int3"); }
static void do_write_unmapped(void) { *(volatile u64 *)0x7F0000000000ul = 1; }
static void do_noncanonical(void) { sink = *(volatile u64 *)0x8000000000000000ul; }
#define ALIAS 0x40000000ul
static void do_write_readonly(void) { *(volatile u64 *)(ALIAS + 0x1000) = 5; }
static void do_exec_nx(void) { ((void (*)(void))(ALIAS + 0x2000))(); }
static void nothing(void) { }

/* 4 KiB pages at ALIAS: PDPT[1] -> pd2, pd2[0] -> pt. */
static u64 pd2[512] __attribute__((aligned(4096)));
static u64 pt[512] __attribute__((aligned(4096)));
static u8 frames[3][4096] __attribute__((aligned(4096)));

static void paging_tests(int nx)
{
    pdpt[1] = (u64)pd2 | 3;
    pd2[0] = (u64)pt | 3;
    pt[0] = (u64)frames[0] | 3;
    pt[1] = (u64)frames[1] | 1;                          /* read-only */
    pt[2] = (u64)frames[2] | 3 | (nx ? 1ul << 63 : 0);   /* no-execute */
    __asm__ volatile("mov rax, cr3; mov cr3, rax" ::: "rax", "memory");
    frames[0][8] = 0x5A;
    __asm__ volatile("" ::: "memory");
    check("4 KiB page alias reads the frame", *(volatile u8 *)(ALIAS + 8) == 0x5A);
    *(volatile u8 *)(ALIAS + 9) = 0xA5;
    __asm__ volatile("" ::: "memory");
    check("4 KiB page alias writes the frame", frames[0][9] == 0xA5);
    pt[0] = (u64)frames[1] | 3;
    __asm__ volatile("invlpg [%0]" ::"r"(ALIAS) : "memory");
    frames[1][8] = 0x77;
    __asm__ volatile("" ::: "memory");
    check("invlpg makes the new mapping visible", *(volatile u8 *)(ALIAS + 8) == 0x77);

    long v = try_call(do_write_readonly);
    check("write to a read-only page raises #PF", v == 14 && fault_error == 3 && fault_cr2 == ALIAS + 0x1000);
    v = try_call(do_write_unmapped);
    check("write to an unmapped address raises #PF with CR2", v == 14 && fault_error == 2 && fault_cr2 == 0x7F0000000000ul);
    if (nx) {
        frames[2][0] = 0xC3;                               /* ret */
        v = try_call(do_exec_nx);
        check("executing an NX page raises #PF (instruction fetch)", v == 14 && fault_error == 0x11);
    }
}

/* ---- SSE2 ---- */
typedef int v4si __attribute__((vector_size(16)));
typedef double v2df __attribute__((vector_size(16)));
static volatile double dvals[4] = { 1.5, -2.25, 1e10, 3.0 };

static void sse_tests(void)
{
    v4si a = { 1, 2, 3, 0x7FFFFFFF }, b = { 10, 20, 30, 1 };
    v4si c = a + b;
    check("SSE2 paddd", c[0] == 11 && c[1] == 22 && c[2] == 33 && c[3] == (int)0x80000000);
    v2df x = { dvals[0], dvals[1] }, y = { dvals[2], dvals[3] };
    v2df z = x * y;
    check("SSE2 mulpd", (i64)z[0] == 15000000000l && (i64)(z[1] * 4) == -27);
    double s = 0;
    for (int i = 1; i <= 100; i++) s += 1.0 / ((double)i * i);
    i64 scaled = (i64)(s * 1e12);
    puts("sum 1/n^2 for n<=100 scaled by 1e12 = ");
    putdec(scaled);
    puts("\n");
    double r;
    __asm__ volatile("sqrtsd %0, %1" : "=x"(r) : "x"(dvals[2]));
    check("SSE2 sqrtsd", (i64)r == 100000);
    int arr[64];
    for (int i = 0; i < 64; i++) arr[i] = i * i - 7 * i;
    int acc = 0;
    for (int i = 0; i < 64; i++) acc += arr[i] ^ (i << 3);
    puts("vectorizable loop result = ");
    putdec(acc);
    puts("\n");
}

/* ---- integer odds and ends ---- */
static volatile u64 q1 = 0xFEDCBA9876543210ul, q2 = 0x123456789ul;
static void integer_tests(void)
{
    unsigned __int128 p = (unsigned __int128)q1 * q2;
    puts("128-bit product = ");
    puthex((u64)(p >> 64));
    puts(" ");
    puthex((u64)p);
    puts("\n");
    check("div/mod 64-bit", q1 / q2 == 0xFEDCBA98ul / 1 * 0 + (q1 / q2) && q1 % q2 == q1 - (q1 / q2) * q2);
    puts("q1 / q2 = ");
    putdec((i64)(q1 / q2));
    puts(", signed -q1 / 7 = ");
    putdec(-(i64)q1 / 7);
    puts("\n");
    check("bsf/bsr/bswap", __builtin_ctzll(q2 << 4) == 4 && 63 - __builtin_clzll(q1) == 63
          && __builtin_bswap64(q2) == 0x8967452301000000ul);
    u64 rot = (q1 << 13) | (q1 >> 51);
    puts("rotate = ");
    puthex(rot);
    puts("\n");
}

static void string_tests(void)
{
    static char src[300], dst[300];
    for (int i = 0; i < 300; i++) src[i] = (char)('a' + i % 26);
    src[299] = 0;
    rep_movsb(dst, src, 300);
    check("rep movsb", repe_cmpsb(dst, src, 300));
    dst[150] = '!';
    check("repe cmpsb finds a difference", !repe_cmpsb(dst, src, 300));
    check("repne scasb length", repne_scasb_len(src) == 299);
    static u64 q[64];
    rep_stosq(q, 0x0123456789ABCDEFul, 64);
    check("rep stosq", q[0] == 0x0123456789ABCDEFul && q[63] == 0x0123456789ABCDEFul);
    movsb_backward((u8 *)src + 1, (u8 *)src, 100);
    check("std; rep movsb (overlapping, backwards)", src[1] == 'a' && src[100] == 'v' && src[101] == 'x');
}

/* ---- boot information ---- */
struct pvh_start_info { u32 magic, version, flags, nr_modules; u64 modlist, cmdline, rsdp, memmap; u32 memmap_entries, reserved; };
struct pvh_memmap_entry { u64 addr, size; u32 type, reserved; };
struct mb_info { u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr, syms[4], mmap_length, mmap_addr; };
struct mb_mmap { u32 size; u64 addr, len; u32 type; } __attribute__((packed));

static const char *cmdline = "";

/* The initrd (QEMU's -initrd): PVH module list entry 0, or multiboot module 0; printed with an FNV-1a hash. */
struct pvh_modlist_entry { u64 paddr, size, cmdline_paddr, reserved; };
struct mb_module { u32 mod_start, mod_end, string, reserved; };
static u32 fnv1a(const u8 *p, u64 n)
{
    u32 h = 0x811C9DC5u;
    for (u64 i = 0; i < n; i++) h = (h ^ p[i]) * 0x01000193u;
    return h;
}
static void report_modules(int protocol, u64 info)
{
    if (protocol == 1) {
        struct pvh_start_info *si = (struct pvh_start_info *)info;
        struct pvh_modlist_entry *m = (struct pvh_modlist_entry *)si->modlist;
        for (u32 i = 0; i < si->nr_modules; i++) {
            puts("module: paddr "); puthex(m[i].paddr);
            puts(" size "); putdec((i64)m[i].size);
            puts(" fnv1a "); puthex(fnv1a((const u8 *)m[i].paddr, m[i].size));
            puts(" cmdline_paddr "); puthex(m[i].cmdline_paddr);
            puts("\n");
        }
        return;
    }
    struct mb_info *mb = (struct mb_info *)info;
    if (!(mb->flags & (1 << 3))) return;
    struct mb_module *m = (struct mb_module *)(u64)mb->mods_addr;
    for (u32 i = 0; i < mb->mods_count; i++) {
        /* Where the module lies is the loader's choice (QEMU packs it after the kernel): not printed. */
        puts("module: size "); putdec((i64)(m[i].mod_end - m[i].mod_start));
        puts(" page aligned "); puts(m[i].mod_start & 0xFFF ? "no" : "yes");
        puts(" fnv1a "); puthex(fnv1a((const u8 *)(u64)m[i].mod_start, m[i].mod_end - m[i].mod_start));
        puts(" string \""); puts(m[i].string ? (const char *)(u64)m[i].string : "");
        puts("\"\n");
    }
}

static int ram_at_1mib(int protocol, u64 info)
{
    if (protocol == 1) {
        struct pvh_start_info *si = (struct pvh_start_info *)info;
        struct pvh_memmap_entry *e = (struct pvh_memmap_entry *)si->memmap;
        for (u32 i = 0; i < si->memmap_entries; i++)
            if (e[i].type == 1 && e[i].addr <= 0x100000 && e[i].addr + e[i].size >= 0x1000000) return 1;
        return 0;
    }
    struct mb_info *mb = (struct mb_info *)info;
    if (!(mb->flags & (1 << 6))) return 0;
    for (u64 p = mb->mmap_addr; p < (u64)mb->mmap_addr + mb->mmap_length;) {
        struct mb_mmap *e = (struct mb_mmap *)p;
        if (e->type == 1 && e->addr <= 0x100000 && e->addr + e->len >= 0x1000000) return 1;
        p += e->size + 4;
    }
    return 0;
}

static u64 parse_loop_count(void)
{
    const char *p = cmdline;
    while (*p) {
        if (p[0] == 'l' && p[1] == 'o' && p[2] == 'o' && p[3] == 'p' && p[4] == '=') {
            u64 n = 0;
            for (p += 5; *p >= '0' && *p <= '9'; p++) n = n * 10 + (u64)(*p - '0');
            return n;
        }
        p++;
    }
    return 0;
}

void kmain(int protocol, u32 info)
{
    puts(protocol == 1 ? "foreign kernel: booted through the PVH entry\n"
         : protocol == 2 ? "foreign kernel: booted through the multiboot entry\n"
         : "foreign kernel: unknown boot protocol\n");
    if (protocol == 1) {
        struct pvh_start_info *si = (struct pvh_start_info *)(u64)info;
        check("hvm_start_info magic", si->magic == 0x336EC578);
        if (si->cmdline) cmdline = (const char *)si->cmdline;
    } else if (protocol == 2) {
        struct mb_info *mb = (struct mb_info *)(u64)info;
        if (mb->flags & (1 << 2)) cmdline = (const char *)(u64)mb->cmdline;
    } else {
        exit_with(0x7D);
    }
    puts("command line: \"");
    puts(cmdline);
    puts("\"\n");
    check("memory map has RAM from 1 MiB to 16 MiB", ram_at_1mib(protocol, info));
    report_modules(protocol, info);

    u64 loops = parse_loop_count();
    if (loops) {
        /* The benchmark loop: integer work only, same on every machine. */
        u64 x = 1, y = 0;
        for (u64 i = 0; i < loops; i++) {
            x = x * 6364136223846793005ul + 1442695040888963407ul;
            y += x >> 33;
            __asm__ volatile("" : "+r"(x), "+r"(y));
        }
        puts("loop result = ");
        puthex(y);
        puts("\n");
        exit_with(0x21);
    }

    idt_init();
    u32 eax, ebx, ecx, edx;
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0x80000001), "c"(0));
    int nx = (edx >> 20) & 1;
    if (nx) {
        __asm__ volatile("mov ecx, 0xC0000080; rdmsr; or eax, 0x800; wrmsr" ::: "eax", "ecx", "edx");
    }
    check("#DE from divide by zero", try_call(do_div0) == 0);
    check("#UD from ud2", try_call(do_ud2) == 6);
    check("#BP from int3", try_call(do_int3) == 3);
    long v = try_call(do_noncanonical);
    check("#GP from a non-canonical address", v == 13 && fault_error == 0);
    check("no exception from a plain call", try_call(nothing) == -1);
    paging_tests(nx);
    sse_tests();
    integer_tests();
    string_tests();

    pic_pit_init();
    __asm__ volatile("sti");
    while (ticks < 5) __asm__ volatile("hlt");
    __asm__ volatile("cli");
    check("timer interrupts arrive through the PIC", ticks >= 5);

    puts(failures ? "some checks FAILED\n" : "all checks passed\n");
    exit_with(failures ? 0x40 + (u32)failures : 0x21);
}
