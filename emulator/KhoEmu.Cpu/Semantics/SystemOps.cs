using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Semantics;

/// <summary>Privileged and system instructions: control/debug registers, descriptor tables, MSRs, CPUID, port I/O.</summary>
internal static class SystemOps
{
    private static bool RequireCpl0(Cpu c)
    {
        if (c.Cpl == 0) return true;
        c.RaiseFault(Vector.GP, 0);
        return false;
    }

    public static void MovToCr(Cpu c, ref DecodedOp op)
    {
        if (!RequireCpl0(c)) return;
        int cr = OpBuilder.RegisterIndex(op.Insn.Op0Register);
        c.WriteControlRegister(cr, c.GetReg(op.R1, op.SrcSize));
    }

    public static void MovFromCr(Cpu c, ref DecodedOp op)
    {
        if (!RequireCpl0(c)) return;
        c.SetReg(op.R0, op.Size, c.ReadControlRegister(OpBuilder.RegisterIndex(op.Insn.Op1Register)));
    }

    public static void MovToDr(Cpu c, ref DecodedOp op)
    {
        if (!RequireCpl0(c)) return;
        int n = c.DebugRegisterIndex(OpBuilder.RegisterIndex(op.Insn.Op0Register));
        if (n >= 0) c.WriteDebugRegister(n, c.GetReg(op.R1, op.SrcSize));
    }

    public static void MovFromDr(Cpu c, ref DecodedOp op)
    {
        if (!RequireCpl0(c)) return;
        int n = c.DebugRegisterIndex(OpBuilder.RegisterIndex(op.Insn.Op1Register));
        if (n >= 0) c.SetReg(op.R0, op.Size, c.Dr[n]);
    }

    public static void MovToSeg(Cpu c, ref DecodedOp op)
    {
        int seg = OpBuilder.SegmentIndex(op.Insn.Op0Register);
        if (seg == SegReg.CS) { c.RaiseFault(Vector.UD); return; }
        ulong v = op.K1 == OperandKind.Register ? c.GetReg(op.R1, 2) : c.Read(op.Seg, c.Ea(ref op), 2);
        if (c.Faulted) return;
        c.LoadSegmentRegister(seg, (ushort)v);
        if (seg == SegReg.SS && !c.Faulted) c.RequestInterruptShadow(Cpu.ShadowMovSs);
    }

    public static void MovFromSeg(Cpu c, ref DecodedOp op)
    {
        ushort sel = c.Seg[OpBuilder.SegmentIndex(op.Insn.Op1Register)].Selector;
        if (op.K0 == OperandKind.Register) c.SetReg(op.R0, op.Size, sel);
        else c.Write(op.Seg, c.Ea(ref op), 2, sel);
    }

    public static void PushSeg(Cpu c, ref DecodedOp op) =>
        c.Push(c.Seg[OpBuilder.SegmentIndex(op.Insn.Op0Register)].Selector, op.StackSize);

    public static void PopSeg(Cpu c, ref DecodedOp op)
    {
        ulong v = c.PeekStack(op.StackSize);
        if (c.Faulted) return;
        int seg = OpBuilder.SegmentIndex(op.Insn.Op0Register);
        c.LoadSegmentRegister(seg, (ushort)v);
        if (c.Faulted) return;
        c.AdjustStack(op.StackSize);
        if (seg == SegReg.SS) c.RequestInterruptShadow(Cpu.ShadowMovSs);
    }

    /// <summary>LGDT/LIDT: limit then base (24/32 bits outside 64-bit mode by operand size, 64 bits in it).</summary>
    public static void LoadDescriptorTable(Cpu c, ref DecodedOp op)
    {
        if (!RequireCpl0(c)) return;
        ulong ea = c.Ea(ref op);
        ushort limit = (ushort)c.Read(op.Seg, ea, 2);
        ulong b = c.Read(op.Seg, (ea + 2) & op.AddrMask, c.Is64 ? 8 : 4);
        if (c.Faulted) return;
        // A 16-bit operand size loads a 24-bit base (SDM: LGDT "16-bit operand" form).
        if (op.Insn.Code is Iced.Intel.Code.Lgdt_m1632_16 or Iced.Intel.Code.Lidt_m1632_16) b &= 0xFFFFFF;
        if (c.Is64 && !Cpu.IsCanonical(b)) { c.RaiseFault(Vector.GP, 0); return; } // SDM vol. 2A LGDT/LIDT
        if (op.Insn.Mnemonic == Iced.Intel.Mnemonic.Lgdt) { c.GdtBase = b; c.GdtLimit = limit; }
        else { c.IdtBase = b; c.IdtLimit = limit; }
    }

    public static void StoreDescriptorTable(Cpu c, ref DecodedOp op)
    {
        bool gdt = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Sgdt;
        ulong ea = c.Ea(ref op);
        c.Write(op.Seg, ea, 2, gdt ? c.GdtLimit : c.IdtLimit);
        c.Write(op.Seg, (ea + 2) & op.AddrMask, c.Is64 ? 8 : 4, gdt ? c.GdtBase : c.IdtBase);
    }

    /// <summary>LTR / LLDT: system descriptors are 16 bytes in long mode.</summary>
    public static void LoadSystemSegment(Cpu c, ref DecodedOp op)
    {
        if (!RequireCpl0(c) || c.Mode == CpuMode.Real16) { if (c.Mode == CpuMode.Real16) c.RaiseFault(Vector.UD); return; }
        ushort sel = (ushort)c.Load0(ref op);
        if (c.Faulted) return;
        bool tr = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Ltr;
        if ((sel & 0xFFFC) == 0)
        {
            if (tr) { c.RaiseFault(Vector.GP, 0); return; }
            c.Ldtr = new SegmentCache();
            return;
        }
        if ((sel & 4) != 0 || (sel | 7) > c.GdtLimit) { c.RaiseFault(Vector.GP, sel & 0xFFFC); return; }
        ulong lo = c.SysRead(c.GdtBase + (uint)(sel & ~7), 8);
        ulong hi = (c.Efer & Msr.EferLma) != 0 ? c.SysRead(c.GdtBase + (uint)(sel & ~7) + 8, 8) : 0;
        if (c.Faulted) return;
        var cache = SegmentCache.FromDescriptor(sel, lo);
        cache.Base |= (hi & 0xFFFF_FFFF) << 32;
        int type = cache.Attributes & 0x1F;
        if (tr ? type is not (0x09 or 0x01) : type != 0x02) { c.RaiseFault(Vector.GP, sel & 0xFFFC); return; }
        if (!cache.Present) { c.RaiseFault(Vector.NP, sel & 0xFFFC); return; }
        if (tr)
        {
            c.SysWrite(c.GdtBase + (uint)(sel & ~7) + 5, 1, (byte)((lo >> 40) | 2)); // mark busy
            cache.Attributes |= 2;
            c.Tr = cache;
        }
        else c.Ldtr = cache;
    }

    public static void StoreSystemSegment(Cpu c, ref DecodedOp op) =>
        c.Store0(ref op, op.Insn.Mnemonic == Iced.Intel.Mnemonic.Str ? c.Tr.Selector : c.Ldtr.Selector);

    public static void Invlpg(Cpu c, ref DecodedOp op)
    {
        if (!RequireCpl0(c)) return;
        c.FlushTlbPage(c.OperandLinear(ref op));
    }

    public static void Rdmsr(Cpu c, ref DecodedOp op)
    {
        if (!RequireCpl0(c)) return;
        if (!c.TryReadMsr((uint)c.Gpr[Cpu.RCX], out ulong v)) { c.RaiseFault(Vector.GP, 0); return; }
        c.Gpr[Cpu.RAX] = (uint)v;
        c.Gpr[Cpu.RDX] = v >> 32;
    }

    public static void Wrmsr(Cpu c, ref DecodedOp op)
    {
        if (!RequireCpl0(c)) return;
        ulong v = (uint)c.Gpr[Cpu.RAX] | (c.Gpr[Cpu.RDX] << 32);
        if (!c.TryWriteMsr((uint)c.Gpr[Cpu.RCX], v)) c.RaiseFault(Vector.GP, 0);
    }

    public static void Rdtsc(Cpu c, ref DecodedOp op)
    {
        bool rdtscp = op.Insn.Mnemonic == Iced.Intel.Mnemonic.Rdtscp;
        if (rdtscp && !c.Model.Has(CpuFeature.Rdtscp)) { c.RaiseFault(Vector.UD); return; }
        if ((c.Cr4 & ControlBits.Cr4TSD) != 0 && c.Cpl != 0) { c.RaiseFault(Vector.GP, 0); return; }
        ulong t = c.Tsc;
        c.Gpr[Cpu.RAX] = (uint)t;
        c.Gpr[Cpu.RDX] = t >> 32;
        if (rdtscp) c.Gpr[Cpu.RCX] = (uint)c.ReadMsrValue(Msr.TscAux);
    }

    public static void Cpuid(Cpu c, ref DecodedOp op)
    {
        var (a, b, cx, d) = c.Cpuid((uint)c.Gpr[Cpu.RAX], (uint)c.Gpr[Cpu.RCX]);
        c.Gpr[Cpu.RAX] = a;
        c.Gpr[Cpu.RBX] = b;
        c.Gpr[Cpu.RCX] = cx;
        c.Gpr[Cpu.RDX] = d;
    }

    private static bool IoAllowed(Cpu c)
    {
        if (c.Mode == CpuMode.Real16 || c.Cpl <= c.Iopl) return true;
        c.RaiseFault(Vector.GP, 0); // the TSS I/O permission bitmap is not consulted
        return false;
    }

    public static void In(Cpu c, ref DecodedOp op)
    {
        if (!IoAllowed(c)) return;
        ushort port = op.K1 == OperandKind.Immediate ? (ushort)op.Imm : (ushort)c.Gpr[Cpu.RDX];
        c.SetReg(Cpu.RAX, op.Size, c.Ports.Read(port, op.Size));
        if (c.IoBreakpoints != 0) c.CheckIoBreakpoints(port, op.Size);
    }

    public static void Out(Cpu c, ref DecodedOp op)
    {
        if (!IoAllowed(c)) return;
        ushort port = op.K0 == OperandKind.Immediate ? (ushort)op.Imm : (ushort)c.Gpr[Cpu.RDX];
        c.Ports.Write(port, op.SrcSize, (uint)c.GetReg(Cpu.RAX, op.SrcSize));
        if (c.IoBreakpoints != 0) c.CheckIoBreakpoints(port, op.SrcSize);
    }

    public static void Cli(Cpu c, ref DecodedOp op)
    {
        if (!IoAllowed(c)) return;
        c.SetFlag(Rflags.IF, false);
    }

    public static void Sti(Cpu c, ref DecodedOp op)
    {
        if (!IoAllowed(c)) return;
        if (!c.IF) c.RequestInterruptShadow(Cpu.ShadowSti);
        c.SetFlag(Rflags.IF, true);
    }

    public static void Clts(Cpu c, ref DecodedOp op)
    {
        if (RequireCpl0(c)) c.Cr0 &= ~ControlBits.Cr0TS;
    }

    public static void Swapgs(Cpu c, ref DecodedOp op)
    {
        if (RequireCpl0(c)) c.SwapGs();
    }

    public static void CacheControl(Cpu c, ref DecodedOp op) => RequireCpl0(c);

    public static void Smsw(Cpu c, ref DecodedOp op) => c.Store0(ref op, c.Cr0 & 0xFFFF_FFFF);

    public static void Lmsw(Cpu c, ref DecodedOp op)
    {
        if (!RequireCpl0(c)) return;
        ulong v = c.Load0(ref op);
        if (c.Faulted) return;
        // LMSW sets PE but cannot clear it, and touches only MP, EM, TS.
        c.WriteControlRegister(0, (c.Cr0 & ~0xEUL) | (v & 0xF) | (c.Cr0 & 1));
    }

    /// <summary>RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE (CR4.FSGSBASE).</summary>
    public static void FsGsBase(Cpu c, ref DecodedOp op)
    {
        if ((c.Cr4 & ControlBits.Cr4FSGSBASE) == 0 || !c.Is64) { c.RaiseFault(Vector.UD); return; }
        var m = op.Insn.Mnemonic;
        int seg = m is Iced.Intel.Mnemonic.Rdfsbase or Iced.Intel.Mnemonic.Wrfsbase ? SegReg.FS : SegReg.GS;
        if (m is Iced.Intel.Mnemonic.Rdfsbase or Iced.Intel.Mnemonic.Rdgsbase) c.SetReg(op.R0, op.Size, c.Seg[seg].Base);
        else
        {
            ulong b = c.GetReg(op.R0, op.Size);
            if (!Cpu.IsCanonical(b)) { c.RaiseFault(Vector.GP, 0); return; } // SDM vol. 2D WRFSBASE/WRGSBASE
            c.Seg[seg].Base = b;
        }
    }
}
