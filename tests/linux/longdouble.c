/*
 * x87 check for the Linux guest: long double arithmetic, conversions and glibc's libm transcendentals.
 * Built once with gcc -static; prepare.sh runs the binary on the host and stores its output as the expected
 * output; /init runs the same binary in the guest with --check EXPECTED. The host CPU's x87 is the reference:
 * every value is printed exactly (%La) and rounded (%.21Lg, which goes through glibc's long double to decimal
 * conversion, itself x87 code).
 *
 * Lines must be identical, except those from libm functions built on FPATAN, F2XM1, FYL2X and FYL2XP1: the
 * SDM (Vol. 1, 8.3.10 "Transcendental Instruction Accuracy") only promises those within 1 ulp, and x87s
 * really differ there (an AMD EPYC host and QEMU's correctly rounded emulation disagree by 1 ulp on logl(3),
 * atanl(-7.25), log1pl(2) and log1pl(0.1)). Those lines may differ by at most 1 ulp.
 *
 * volatile keeps gcc from folding the computations at compile time (it would use MPFR, not the x87).
 */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *out;

static void show(const char *name, long double v)
{
    fprintf(out, "%-12s %La %.21Lg\n", name, v, v);
}

static void unary(const char *name, long double (*f)(long double), const volatile long double *args, int n)
{
    char label[32];
    for (int i = 0; i < n; i++) {
        snprintf(label, sizeof label, "%s[%d]", name, i);
        show(label, f(args[i]));
    }
}

static void compute(void)
{
    static const volatile long double args[] = {
        0.0L, -0.0L, 0.5L, 1.0L, 2.0L, 3.0L, 10.0L, 0.1L, 1e-5L, 123.456L, 1e10L, -7.25L,
        3.14159265358979323846264338327950288L, 1e300L, 1e-300L, LDBL_MIN, LDBL_MAX,
    };
    const int n = (int)(sizeof args / sizeof args[0]);

    /* The four operations, exact and inexact, in each rounding mode the x87 control word selects. */
    volatile long double a = 1.0L, b = 3.0L, big = LDBL_MAX, tiny = LDBL_MIN;
    static const int modes[] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };
    static const char *mode_names[] = { "nearest", "down", "up", "zero" };
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        fprintf(out, "rounding %s\n", mode_names[m]);
        show("  1/3", a / b);
        show("  -1/3", -a / b);
        show("  2/3*3", a / b * 2.0L * b);
        show("  1+eps/2", a + LDBL_EPSILON / 2.0L);
        show("  max*2", big * 2.0L);
        show("  min/3", tiny / 3.0L);
        show("  sqrt2", sqrtl(a + a));
        show("  rint2.5", rintl(2.5L + a - a));
        fprintf(out, "  llrint -2.5 %lld\n", llrintl(-2.5L + a - a));
    }
    fesetround(FE_TONEAREST);

    /* Special values: infinities, NaNs, signed zero, denormals. */
    volatile long double zero = 0.0L, one = 1.0L;
    show("inf", one / zero);
    show("-inf", -one / zero);
    fprintf(out, "nan %d %d\n", isnan(zero / zero), (int)signbit(-zero));
    show("denorm", tiny / 1e10L);
    show("denorm*", tiny / 1e10L * 1e10L);
    fprintf(out, "fpclass %d %d %d %d %d\n", fpclassify(zero), fpclassify(tiny / 1e10L), fpclassify(one),
           fpclassify(one / zero), fpclassify(zero / zero));

    /* libm on long double: glibc's x86-64 versions run x87 instructions (fsqrt, fyl2x, f2xm1, fscale, fprem...). */
    unary("sqrtl", sqrtl, args, n);
    unary("expl", expl, args, n);
    unary("logl", logl, args, n);
    unary("log2l", log2l, args, n);
    unary("log10l", log10l, args, n);
    unary("sinl", sinl, args, n);
    unary("cosl", cosl, args, n);
    unary("tanl", tanl, args, n);
    unary("atanl", atanl, args, n);
    unary("exp2l", exp2l, args, n);
    unary("expm1l", expm1l, args, n);
    unary("log1pl", log1pl, args, n);
    unary("cbrtl", cbrtl, args, n);
    unary("floorl", floorl, args, n);
    for (int i = 0; i < n; i++) {
        char label[32];
        snprintf(label, sizeof label, "powl[%d]", i);
        show(label, powl(args[i], 1.0L / 3.0L));
        snprintf(label, sizeof label, "atan2l[%d]", i);
        show(label, atan2l(args[i], -2.5L));
        snprintf(label, sizeof label, "fmodl[%d]", i);
        show(label, fmodl(args[i], 0.7L));
    }
    show("powl(2,-16445)", powl(2.0L, -16445.0L));
    show("powl(-8,1/3)", powl(-8.0L, 1.0L / 3.0L));
    show("powl(10,4931)", powl(10.0L, 4931.0L));

    /* Conversions between long double and the integer and binary formats. */
    volatile long double x = -1234567890123.75L;
    volatile double d = 0.1;
    volatile float f = 1.0f / 3.0f;
    fprintf(out, "to int64 %lld\n", (long long)x);
    fprintf(out, "to uint64 %llu\n", (unsigned long long)(x * -1.0L * 1e6L));
    fprintf(out, "to int32 %d\n", (int)(x / 1e6L));
    show("from int64", (long double)INT64_MIN);
    show("from uint64", (long double)UINT64_MAX);
    show("from double", (long double)d);
    show("from float", (long double)f);
    fprintf(out, "to double %a\n", (double)(args[12] * 2.0L));
    fprintf(out, "to float %a\n", (float)args[12]);
    show("strtold", strtold("2.718281828459045235360287471352662498", NULL));
    show("strtold hex", strtold("0x1.fffffffffffffffep+16383", NULL));
    char buf[64];
    snprintf(buf, sizeof buf, "%.30Lf", args[12]);
    fprintf(out, "pi %s\n", buf);

    /* Series: exercises many additions and multiplications in extended precision. */
    volatile long double sum = 0.0L, term = 1.0L;
    for (int k = 1; k < 60; k++) {
        sum += term;
        term /= k;
    }
    show("e series", sum);
    long double h = 0.0L;
    for (int k = 1; k <= 10000; k++) h += 1.0L / (long double)k;
    show("harmonic", h);
}

/* Functions whose glibc x86-64 code ends in FPATAN, F2XM1, FYL2X or FYL2XP1 (objdump of the static binary). */
static int transcendental(const char *line)
{
    static const char *names[] = { "expl", "logl", "log2l", "log10l", "atanl", "exp2l", "expm1l", "log1pl",
                                   "powl", "atan2l" };
    size_t len = strcspn(line, "[( ");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && strncmp(line, names[i], len) == 0) return 1;
    return 0;
}

/* Position of v on the line of all 80-bit values (integer bit ignored: normals and denormals join up), so two
 * values' distance in ulps is a subtraction. */
static __int128 ordinal(long double v)
{
    unsigned char raw[10];
    memcpy(raw, &v, sizeof raw);
    uint64_t mant;
    memcpy(&mant, raw, 8);
    unsigned se = raw[8] | (unsigned)raw[9] << 8;
    __int128 k = (__int128)(se & 0x7fff) << 63 | (mant & ~(1ULL << 63));
    return se & 0x8000 ? -k : k;
}

/* 1 when the lines differ only by at most one ulp in the %La field of a transcendental's result. */
static int within_one_ulp(const char *want, const char *got)
{
    if (!transcendental(want)) return 0;
    const char *w = strchr(want, ' '), *g = strchr(got, ' ');
    if (!w || !g || (w - want) != (g - got) || strncmp(want, got, (size_t)(w - want)) != 0) return 0;
    long double a = strtold(w, NULL), b = strtold(g, NULL);
    if (isnan(a) || isnan(b) || isinf(a) || isinf(b)) return 0;
    __int128 d = ordinal(a) - ordinal(b);
    return d >= -1 && d <= 1;
}

static int check(const char *expected_path, const char *actual, size_t actual_len)
{
    FILE *f = fopen(expected_path, "r");
    if (!f) { printf("cannot open %s\n", expected_path); return 1; }
    FILE *a = fmemopen((void *)actual, actual_len, "r");
    char want[256], got[256];
    int lines = 0, identical = 0, close = 0, differ = 0;
    for (;;) {
        char *w = fgets(want, sizeof want, f), *g = fgets(got, sizeof got, a);
        if (!w && !g) break;
        lines++;
        if (w && g && strcmp(w, g) == 0) { identical++; continue; }
        if (w && g && within_one_ulp(w, g)) close++;
        else differ++;
        if (close + differ <= 20)
            printf("%s line %d: host %s        guest %s", w && g && within_one_ulp(w, g) ? "1 ulp" : "DIFFERS",
                   lines, w ? w : "(end)\n", g ? g : "(end)\n");
    }
    fclose(f);
    fclose(a);
    printf("%d lines: %d identical to the host, %d within 1 ulp (transcendental), %d differ\n", lines, identical,
           close, differ);
    return differ != 0;
}

int main(int argc, char **argv)
{
    if (argc == 1) {
        out = stdout;
        compute();
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "--check") != 0) {
        fprintf(stderr, "usage: %s [--check EXPECTED]\n", argv[0]);
        return 2;
    }
    char *buf = NULL;
    size_t len = 0;
    out = open_memstream(&buf, &len);
    compute();
    fclose(out);
    return check(argv[2], buf, len);
}
