using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;
using static KhoEmu.Cpu.Semantics.X87Core;

namespace KhoEmu.Cpu.Semantics;

/// <summary>
/// x87 control instructions: FINIT/FNINIT, FCLEX/FNCLEX, FSTSW/FNSTSW, FSTCW/FNSTCW, FLDCW, WAIT, and the register
/// housekeeping FFREE, FFREEP, FINCSTP, FDECSTP, FNOP (Intel SDM vol. 2). The FN forms never check for a pending
/// exception; the others are "waiting" forms. Control instructions leave FIP/FDP/FOP alone (SDM vol. 1, 8.1.8).
/// </summary>
internal static class X87Control
{
    public static void Fninit(Cpu c, ref DecodedOp op) => Init(c, false);
    public static void Finit(Cpu c, ref DecodedOp op) => Init(c, true);

    private static void Init(Cpu c, bool waiting)
    {
        if (!Begin(c, waiting)) return;
        c.Fpu = X87State.AfterInit(c.Fpu);
        c.SetFerr(false);
    }

    public static void Fnclex(Cpu c, ref DecodedOp op) => Clex(c, false);
    public static void Fclex(Cpu c, ref DecodedOp op) => Clex(c, true);

    /// <summary>Clears the exception flags, SF, ES and B; condition codes and TOP stay.</summary>
    private static void Clex(Cpu c, bool waiting)
    {
        if (!Begin(c, waiting)) return;
        c.Fpu.StatusWord &= 0x7F00;
        c.SetFerr(false);
    }

    public static void Fnstsw(Cpu c, ref DecodedOp op) => StoreStatus(c, ref op, false);
    public static void Fstsw(Cpu c, ref DecodedOp op) => StoreStatus(c, ref op, true);

    /// <summary>FSTSW AX or m2byte.</summary>
    private static void StoreStatus(Cpu c, ref DecodedOp op, bool waiting)
    {
        if (!Begin(c, waiting)) return;
        if (op.K0 == OperandKind.Register) c.SetReg(Cpu.RAX, 2, c.Fpu.StatusWord);
        else c.Write(op.Seg, c.Ea(ref op), 2, c.Fpu.StatusWord);
    }

    public static void Fnstcw(Cpu c, ref DecodedOp op) => StoreControl(c, ref op, false);
    public static void Fstcw(Cpu c, ref DecodedOp op) => StoreControl(c, ref op, true);

    private static void StoreControl(Cpu c, ref DecodedOp op, bool waiting)
    {
        if (Begin(c, waiting)) c.Write(op.Seg, c.Ea(ref op), 2, c.Fpu.ControlWord);
    }

    /// <summary>
    /// FLDCW: reserved bit 6 reads as 1 and bits 13-15 as 0 (as FNSTCW shows on hardware). Unmasking a flagged
    /// exception makes it pending: ES and B are set and the next waiting instruction reports it.
    /// </summary>
    public static void Fldcw(Cpu c, ref DecodedOp op)
    {
        if (!Begin(c)) return;
        ulong v = c.Read(op.Seg, c.Ea(ref op), 2);
        if (c.Faulted) return;
        c.Fpu.ControlWord = NormalizeControl((ushort)v);
        c.Fpu.UpdateErrorSummary();
        if (!c.Fpu.ErrorPending) c.SetFerr(false);
    }

    internal static ushort NormalizeControl(ushort v) => (ushort)((v & 0x1F3F) | 0x0040);

    /// <summary>WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set (EM does not matter); then the pending check.</summary>
    public static void Wait(Cpu c, ref DecodedOp op)
    {
        const ulong mpTs = ControlBits.Cr0MP | ControlBits.Cr0TS;
        if ((c.Cr0 & mpTs) == mpTs) { c.RaiseFault(Vector.NM); return; }
        if (!c.Fpu.ErrorPending) return;
        if ((c.Cr0 & ControlBits.Cr0NE) != 0) c.RaiseFault(Vector.MF);
        else c.SetFerr(true);
    }

    /// <summary>
    /// EMMS (0F 77, SDM vol. 2A): every x87 tag empty. The MMX register file is not modelled and CPUID does not
    /// advertise MMX, but EMMS touches only x87 state, and Linux executes it on every AMD CPU (its FXSAVE-leak
    /// workaround: FNCLEX; EMMS; FILD). #UD with CR0.EM, #NM with CR0.TS, #MF for a pending x87 exception.
    /// </summary>
    public static void Emms(Cpu c, ref DecodedOp op)
    {
        if ((c.Cr0 & ControlBits.Cr0EM) != 0) { c.RaiseFault(Vector.UD); return; }
        if (!Begin(c)) return;
        c.Fpu.TagWord = 0xFFFF;
    }

    /// <summary>FFREE ST(i): tag empty, nothing else changes.</summary>
    public static void Ffree(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        c.Fpu.SetTag(c.Fpu.Physical(StIndex(ref op, 0)), 3);
        SetC1(c, false);
    }

    /// <summary>FFREEP ST(i) (DF C0+i): FFREE then pop.</summary>
    public static void Ffreep(Cpu c, ref DecodedOp op)
    {
        if (!BeginNonControl(c, ref op)) return;
        c.Fpu.SetTag(c.Fpu.Physical(StIndex(ref op, 0)), 3);
        SetC1(c, false);
        Pop(c);
    }

    /// <summary>FINCSTP/FDECSTP rotate TOP without touching tags; C1 cleared.</summary>
    public static void Fincstp(Cpu c, ref DecodedOp op) => MoveTop(c, ref op, 1);
    public static void Fdecstp(Cpu c, ref DecodedOp op) => MoveTop(c, ref op, -1);

    private static void MoveTop(Cpu c, ref DecodedOp op, int delta)
    {
        if (!BeginNonControl(c, ref op)) return;
        c.Fpu.Top += delta;
        SetC1(c, false);
    }

    /// <summary>FNOP, and the 8087/287 FENI, FDISI and FSETPM, which the 387 and later execute as FNOP.</summary>
    public static void Fnop(Cpu c, ref DecodedOp op) => BeginNonControl(c, ref op);

    /// <summary>The non-waiting FNENI/FNDISI/FNSETPM: no-ops that still need the FPU present (CR0.EM/TS).</summary>
    public static void FnopNoWait(Cpu c, ref DecodedOp op) => Begin(c, false);
}
