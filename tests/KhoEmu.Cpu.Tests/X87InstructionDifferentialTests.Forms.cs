using Iced.Intel;
using KhoEmu.Cpu.X87;
using static Iced.Intel.AssemblerRegisters;

namespace KhoEmu.Cpu.Tests;

public sealed partial class X87InstructionDifferentialTests
{
    private static readonly AssemblerRegisterST[] Sts = [st0, st1, st2, st3, st4, st5, st6, st7];

    private static AssemblerRegisterST St(Random r) => Sts[r.Next(8)];

    /// <summary>A memory operand in the RBX buffer, leaving room for the largest (108-byte) image.</summary>
    private static AssemblerMemoryOperand M(int size, Random r)
    {
        int disp = r.Next(0, 128);
        return size switch
        {
            2 => __word_ptr[rbx + disp],
            4 => __dword_ptr[rbx + disp],
            8 => __qword_ptr[rbx + disp],
            10 => __tword_ptr[rbx + disp],
            _ => __[rbx + disp],
        };
    }

    /// <summary>C0-C3 are undefined after these; everything else in the status word is compared.</summary>
    private const ushort NoConditions = 0xFFFF & ~(0x0100 | 0x0400 | 0x4000);

    /// <summary>The transcendental tolerance x87-math documents for SoftFloat80 against the x87 (docs/cpu.md).</summary>
    private const long TranscendentalUlps = KhoEmu.Cpu.Tests.X87.X87Ops.TranscendentalUlps;

    /// <summary>|x| ≤ limit, or a value whose class (zero, ∞, NaN, unsupported) the SDM defines a response for. The
    /// significand is rounded up to 53 bits, so a value just above the limit (1 + 2^-60 for F2XM1) is not let in.</summary>
    private static Func<Float80, bool> AbsAtMost(double limit) => v =>
        v.Exponent == 0x7FFF || v.Exponent == 0 || (v.Significand >> 63) == 0
        || Math.ScaleB((double)((v.Significand >> 11) + ((v.Significand & 0x7FF) != 0 ? 1UL : 0)), v.Exponent - 0x3FFF - 52) <= limit;

    private static IEnumerable<X87Form> Forms()
    {
        // Moves and stack management
        yield return new("fld st(i)", (a, r) => a.fld(St(r)), NoConditions);
        yield return new("fld m32", (a, r) => a.fld(M(4, r)), NoConditions);
        yield return new("fld m64", (a, r) => a.fld(M(8, r)), NoConditions);
        yield return new("fld m80", (a, r) => a.fld(M(10, r)), NoConditions);
        yield return new("fild m16", (a, r) => a.fild(M(2, r)), NoConditions);
        yield return new("fild m32", (a, r) => a.fild(M(4, r)), NoConditions);
        yield return new("fild m64", (a, r) => a.fild(M(8, r)), NoConditions);
        yield return new("fst st(i)", (a, r) => a.fst(St(r)), NoConditions);
        yield return new("fstp st(i)", (a, r) => a.fstp(St(r)), NoConditions);
        yield return new("fst m32", (a, r) => a.fst(M(4, r)), NoConditions);
        yield return new("fst m64", (a, r) => a.fst(M(8, r)), NoConditions);
        yield return new("fstp m32", (a, r) => a.fstp(M(4, r)), NoConditions);
        yield return new("fstp m64", (a, r) => a.fstp(M(8, r)), NoConditions);
        yield return new("fstp m80", (a, r) => a.fstp(M(10, r)), NoConditions);
        yield return new("fist m16", (a, r) => a.fist(M(2, r)), NoConditions);
        yield return new("fist m32", (a, r) => a.fist(M(4, r)), NoConditions);
        yield return new("fistp m16", (a, r) => a.fistp(M(2, r)), NoConditions);
        yield return new("fistp m32", (a, r) => a.fistp(M(4, r)), NoConditions);
        yield return new("fistp m64", (a, r) => a.fistp(M(8, r)), NoConditions);
        yield return new("fisttp m16", (a, r) => a.fisttp(M(2, r)), NoConditions);
        yield return new("fisttp m32", (a, r) => a.fisttp(M(4, r)), NoConditions);
        yield return new("fisttp m64", (a, r) => a.fisttp(M(8, r)), NoConditions);
        yield return new("fbld m80", (a, r) => a.fbld(M(10, r)), NoConditions);
        yield return new("fbstp m80", (a, r) => a.fbstp(M(10, r)), NoConditions);
        yield return new("fxch st(i)", (a, r) => a.fxch(st0, St(r)), NoConditions);
        yield return new("ffree st(i)", (a, r) => a.ffree(St(r)));
        yield return new("ffreep st(i)", (a, r) => a.ffreep(St(r)));
        yield return new("fincstp", (a, _) => a.fincstp(), NoConditions);
        yield return new("fdecstp", (a, _) => a.fdecstp(), NoConditions);
        yield return new("fnop", (a, _) => a.fnop());
        foreach (var (n, e) in new (string, Action<Assembler, AssemblerRegisterST>)[]
        {
            ("fcmovb", (a, s) => a.fcmovb(st0, s)), ("fcmove", (a, s) => a.fcmove(st0, s)), ("fcmovbe", (a, s) => a.fcmovbe(st0, s)),
            ("fcmovu", (a, s) => a.fcmovu(st0, s)), ("fcmovnb", (a, s) => a.fcmovnb(st0, s)), ("fcmovne", (a, s) => a.fcmovne(st0, s)),
            ("fcmovnbe", (a, s) => a.fcmovnbe(st0, s)), ("fcmovnu", (a, s) => a.fcmovnu(st0, s)),
        })
            yield return new($"{n} st0, st(i)", (a, r) => e(a, St(r)), NoConditions);
        yield return new("fld1", (a, _) => a.fld1(), NoConditions);
        yield return new("fldl2t", (a, _) => a.fldl2t(), NoConditions);
        yield return new("fldl2e", (a, _) => a.fldl2e(), NoConditions);
        yield return new("fldpi", (a, _) => a.fldpi(), NoConditions);
        yield return new("fldlg2", (a, _) => a.fldlg2(), NoConditions);
        yield return new("fldln2", (a, _) => a.fldln2(), NoConditions);
        yield return new("fldz", (a, _) => a.fldz(), NoConditions);

        // Control and environment (non-waiting forms may start with an exception pending)
        yield return new("fninit", (a, _) => a.fninit(), Dirty: true);
        yield return new("fnclex", (a, _) => a.fnclex(), 0xFFFF & ~0x4700, Dirty: true);
        yield return new("fnstsw ax", (a, _) => a.fnstsw(ax), Dirty: true);
        yield return new("fnstsw m16", (a, r) => a.fnstsw(M(2, r)), Dirty: true);
        yield return new("fnstcw m16", (a, r) => a.fnstcw(M(2, r)), Dirty: true);
        yield return new("fldcw m16", (a, r) => a.fldcw(M(2, r)));
        yield return new("fnstenv m28", (a, r) => a.fnstenv(M(0, r)), Dirty: true);
        yield return new("fnstenv m14", (a, r) => { a.db(0x66); a.fnstenv(M(0, r)); }, Dirty: true);
        yield return new("fnsave m108", (a, r) => a.fnsave(M(0, r)), Dirty: true);
        yield return new("fnsave m94", (a, r) => { a.db(0x66); a.fnsave(M(0, r)); }, Dirty: true);
        yield return new("fldenv m28", (a, r) => a.fldenv(M(0, r)));
        yield return new("frstor m108", (a, r) => a.frstor(M(0, r)));

        // Arithmetic
        foreach (var op in new[] { "fadd", "fsub", "fsubr", "fmul", "fdiv", "fdivr" })
        {
            yield return new($"{op} st0, st(i)", (a, r) => Invoke(a, op, st0, St(r)));
            yield return new($"{op} st(i), st0", (a, r) => Invoke(a, op, St(r), st0));
            yield return new($"{op}p st(i), st0", (a, r) => Invoke(a, op + "p", St(r), st0));
            yield return new($"{op} m32", (a, r) => Invoke(a, op, M(4, r)));
            yield return new($"{op} m64", (a, r) => Invoke(a, op, M(8, r)));
            yield return new($"fi{op[1..]} m16", (a, r) => Invoke(a, "fi" + op[1..], M(2, r)));
            yield return new($"fi{op[1..]} m32", (a, r) => Invoke(a, "fi" + op[1..], M(4, r)));
        }
        yield return new("fchs", (a, _) => a.fchs(), NoConditions);
        yield return new("fabs", (a, _) => a.fabs(), NoConditions);
        yield return new("fsqrt", (a, _) => a.fsqrt(), NoConditions);
        yield return new("frndint", (a, _) => a.frndint(), NoConditions);
        yield return new("fscale", (a, _) => a.fscale(), NoConditions);
        yield return new("fxtract", (a, _) => a.fxtract(), NoConditions);
        yield return new("fprem", (a, _) => a.fprem());
        yield return new("fprem1", (a, _) => a.fprem1());

        // Comparisons
        yield return new("fcom st(i)", (a, r) => a.fcom(st0, St(r)));
        yield return new("fcomp st(i)", (a, r) => a.fcomp(st0, St(r)));
        yield return new("fcompp", (a, _) => a.fcompp());
        yield return new("fucom st(i)", (a, r) => a.fucom(st0, St(r)));
        yield return new("fucomp st(i)", (a, r) => a.fucomp(st0, St(r)));
        yield return new("fucompp", (a, _) => a.fucompp());
        yield return new("fcom m32", (a, r) => a.fcom(M(4, r)));
        yield return new("fcom m64", (a, r) => a.fcom(M(8, r)));
        yield return new("fcomp m64", (a, r) => a.fcomp(M(8, r)));
        yield return new("ficom m16", (a, r) => a.ficom(M(2, r)));
        yield return new("ficomp m32", (a, r) => a.ficomp(M(4, r)));
        yield return new("ftst", (a, _) => a.ftst());
        yield return new("fxam", (a, _) => a.fxam());
        yield return new("fcomi st0, st(i)", (a, r) => a.fcomi(st0, St(r)), NoConditions);
        yield return new("fcomip st0, st(i)", (a, r) => a.fcomip(st0, St(r)), NoConditions);
        yield return new("fucomi st0, st(i)", (a, r) => a.fucomi(st0, St(r)), NoConditions);
        yield return new("fucomip st0, st(i)", (a, r) => a.fucomip(st0, St(r)), NoConditions);

        // Transcendentals (C1 is the rounding direction, which depends on the last bit the tolerance allows to differ)
        const ushort Tr = 0xFFFF & ~0x0200 & ~(0x0100 | 0x4000);
        yield return new("f2xm1", (a, _) => a.f2xm1(), Tr, UlpBound: TranscendentalUlps, Domain: AbsAtMost(1));
        yield return new("fyl2x", (a, _) => a.fyl2x(), Tr, UlpBound: TranscendentalUlps);
        yield return new("fyl2xp1", (a, _) => a.fyl2xp1(), Tr, UlpBound: TranscendentalUlps, Domain: AbsAtMost(1 - Math.Sqrt(2) / 2));
        yield return new("fpatan", (a, _) => a.fpatan(), Tr, UlpBound: TranscendentalUlps);
        yield return new("fptan", (a, _) => a.fptan(), Tr, UlpBound: TranscendentalUlps);
        yield return new("fsin", (a, _) => a.fsin(), Tr, UlpBound: TranscendentalUlps);
        yield return new("fcos", (a, _) => a.fcos(), Tr, UlpBound: TranscendentalUlps);
        yield return new("fsincos", (a, _) => a.fsincos(), Tr, UlpBound: TranscendentalUlps);
    }

    private static void Invoke(Assembler a, string name, params object[] args)
    {
        var m = typeof(Assembler).GetMethod(name, args.Select(v => v.GetType()).ToArray())
            ?? throw new InvalidOperationException($"Assembler has no {name}({string.Join(", ", args.Select(v => v.GetType().Name))})");
        m.Invoke(a, args);
    }
}
