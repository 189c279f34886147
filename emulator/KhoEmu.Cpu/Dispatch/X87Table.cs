using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.Semantics;
using static KhoEmu.Cpu.Semantics.X87Arithmetic;
using static KhoEmu.Cpu.Semantics.X87Compare;
using static KhoEmu.Cpu.Semantics.X87Control;
using static KhoEmu.Cpu.Semantics.X87Environment;
using static KhoEmu.Cpu.Semantics.X87LoadStore;
using static KhoEmu.Cpu.Semantics.X87Transcendental;

namespace KhoEmu.Cpu.Dispatch;

/// <summary>
/// Table rows for every x87 instruction Iced decodes by default: mnemonic → handler. The integer-operand forms
/// (FIADD ...) share the floating-point handlers, which read the memory operand by its Iced memory size.
/// </summary>
internal static unsafe class X87Table
{
    public static void Register(Action<nint, Mnemonic[]> on)
    {
        void Reg(delegate*<Cpu, ref DecodedOp, void> h, params Mnemonic[] ms) => on((nint)h, ms);

        // Loads, stores, moves
        Reg(&Load, Mnemonic.Fld, Mnemonic.Fild, Mnemonic.Fbld);
        Reg(&Fld1, Mnemonic.Fld1);
        Reg(&Fldl2t, Mnemonic.Fldl2t);
        Reg(&Fldl2e, Mnemonic.Fldl2e);
        Reg(&Fldpi, Mnemonic.Fldpi);
        Reg(&Fldlg2, Mnemonic.Fldlg2);
        Reg(&Fldln2, Mnemonic.Fldln2);
        Reg(&Fldz, Mnemonic.Fldz);
        Reg(&Fst, Mnemonic.Fst);
        Reg(&Fstp, Mnemonic.Fstp, Mnemonic.Fstpnce); // FSTPNCE is the D9 D8+i alias of FSTP ST(i)
        Reg(&Fist, Mnemonic.Fist);
        Reg(&Fistp, Mnemonic.Fistp);
        Reg(&Fisttp, Mnemonic.Fisttp);
        Reg(&Fbstp, Mnemonic.Fbstp);
        Reg(&Fxch, Mnemonic.Fxch);
        Reg(&Fcmovb, Mnemonic.Fcmovb);
        Reg(&Fcmove, Mnemonic.Fcmove);
        Reg(&Fcmovbe, Mnemonic.Fcmovbe);
        Reg(&Fcmovu, Mnemonic.Fcmovu);
        Reg(&Fcmovnb, Mnemonic.Fcmovnb);
        Reg(&Fcmovne, Mnemonic.Fcmovne);
        Reg(&Fcmovnbe, Mnemonic.Fcmovnbe);
        Reg(&Fcmovnu, Mnemonic.Fcmovnu);

        // Arithmetic
        Reg(&Fadd, Mnemonic.Fadd, Mnemonic.Fiadd);
        Reg(&Fsub, Mnemonic.Fsub, Mnemonic.Fisub);
        Reg(&Fsubr, Mnemonic.Fsubr, Mnemonic.Fisubr);
        Reg(&Fmul, Mnemonic.Fmul, Mnemonic.Fimul);
        Reg(&Fdiv, Mnemonic.Fdiv, Mnemonic.Fidiv);
        Reg(&Fdivr, Mnemonic.Fdivr, Mnemonic.Fidivr);
        Reg(&Faddp, Mnemonic.Faddp);
        Reg(&Fsubp, Mnemonic.Fsubp);
        Reg(&Fsubrp, Mnemonic.Fsubrp);
        Reg(&Fmulp, Mnemonic.Fmulp);
        Reg(&Fdivp, Mnemonic.Fdivp);
        Reg(&Fdivrp, Mnemonic.Fdivrp);
        Reg(&Fchs, Mnemonic.Fchs);
        Reg(&Fabs, Mnemonic.Fabs);
        Reg(&Fsqrt, Mnemonic.Fsqrt);
        Reg(&Frndint, Mnemonic.Frndint);
        Reg(&Fscale, Mnemonic.Fscale);
        Reg(&Fxtract, Mnemonic.Fxtract);
        Reg(&Fprem, Mnemonic.Fprem);
        Reg(&Fprem1, Mnemonic.Fprem1);
        Reg(&F2xm1, Mnemonic.F2xm1);
        Reg(&Fyl2x, Mnemonic.Fyl2x);
        Reg(&Fyl2xp1, Mnemonic.Fyl2xp1);
        Reg(&Fpatan, Mnemonic.Fpatan);
        Reg(&Fptan, Mnemonic.Fptan);
        Reg(&Fsin, Mnemonic.Fsin);
        Reg(&Fcos, Mnemonic.Fcos);
        Reg(&Fsincos, Mnemonic.Fsincos);

        // Comparisons
        Reg(&Fcom, Mnemonic.Fcom);
        Reg(&Fcomp, Mnemonic.Fcomp);
        Reg(&Fcompp, Mnemonic.Fcompp);
        Reg(&Fucom, Mnemonic.Fucom);
        Reg(&Fucomp, Mnemonic.Fucomp);
        Reg(&Fucompp, Mnemonic.Fucompp);
        Reg(&Ficom, Mnemonic.Ficom);
        Reg(&Ficomp, Mnemonic.Ficomp);
        Reg(&Ftst, Mnemonic.Ftst);
        Reg(&Fxam, Mnemonic.Fxam);
        Reg(&Fcomi, Mnemonic.Fcomi);
        Reg(&Fcomip, Mnemonic.Fcomip);
        Reg(&Fucomi, Mnemonic.Fucomi);
        Reg(&Fucomip, Mnemonic.Fucomip);

        // Control and environment
        Reg(&Fninit, Mnemonic.Fninit);
        Reg(&Finit, Mnemonic.Finit);
        Reg(&Fnclex, Mnemonic.Fnclex);
        Reg(&Fclex, Mnemonic.Fclex);
        Reg(&Fnstsw, Mnemonic.Fnstsw);
        Reg(&Fstsw, Mnemonic.Fstsw);
        Reg(&Fnstcw, Mnemonic.Fnstcw);
        Reg(&Fstcw, Mnemonic.Fstcw);
        Reg(&Fldcw, Mnemonic.Fldcw);
        Reg(&Fnstenv, Mnemonic.Fnstenv);
        Reg(&Fstenv, Mnemonic.Fstenv);
        Reg(&Fldenv, Mnemonic.Fldenv);
        Reg(&Fnsave, Mnemonic.Fnsave);
        Reg(&Fsave, Mnemonic.Fsave);
        Reg(&Frstor, Mnemonic.Frstor);
        Reg(&Wait, Mnemonic.Wait);
        Reg(&Ffree, Mnemonic.Ffree);
        Reg(&Ffreep, Mnemonic.Ffreep);
        Reg(&Fincstp, Mnemonic.Fincstp);
        Reg(&Fdecstp, Mnemonic.Fdecstp);
        Reg(&Fnop, Mnemonic.Fnop, Mnemonic.Feni, Mnemonic.Fdisi, Mnemonic.Fsetpm);
        Reg(&FnopNoWait, Mnemonic.Fneni, Mnemonic.Fndisi, Mnemonic.Fnsetpm);
        Reg(&Emms, Mnemonic.Emms);
        // 3DNow! is not implemented: FEMMS (0F 0E) is an invalid opcode, as on Intel processors.
        Reg(&Flow.Ud, Mnemonic.Femms);
    }
}
