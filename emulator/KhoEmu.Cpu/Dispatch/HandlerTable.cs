using System.Runtime.Intrinsics;
using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.Semantics;
using static KhoEmu.Cpu.Semantics.Sse;

namespace KhoEmu.Cpu.Dispatch;

/// <summary>
/// The one declarative table from Iced mnemonics to handlers, expanded into an array indexed by Iced's
/// <see cref="Code"/>. <see cref="Select"/> refines the choice by operand form (register-only fast paths). A code
/// without a handler executes <see cref="Unimplemented"/>: the machine stops with a diagnostic, never a silent no-op.
/// </summary>
internal static unsafe class HandlerTable
{
    /// <summary>Per <see cref="Code"/>: whether a handler exists (filled by <see cref="Build"/>, declared first so it is
    /// initialized before it).</summary>
    private static readonly bool[] Implemented = new bool[Enum.GetValues<Code>().Length];
    private static readonly delegate*<Cpu, ref DecodedOp, void>[] ByCode = Build();

    private static delegate*<Cpu, ref DecodedOp, void>[] Build()
    {
        var byMnemonic = new Dictionary<Mnemonic, nint>();
        void On(delegate*<Cpu, ref DecodedOp, void> h, params Mnemonic[] ms)
        {
            foreach (var m in ms) byMnemonic[m] = (nint)h;
        }

        // Integer ALU
        On(&Semantics.Alu.Generic<AddOp>, Mnemonic.Add);
        On(&Semantics.Alu.Generic<OrOp>, Mnemonic.Or);
        On(&Semantics.Alu.Generic<AdcOp>, Mnemonic.Adc);
        On(&Semantics.Alu.Generic<SbbOp>, Mnemonic.Sbb);
        On(&Semantics.Alu.Generic<AndOp>, Mnemonic.And);
        On(&Semantics.Alu.Generic<SubOp>, Mnemonic.Sub);
        On(&Semantics.Alu.Generic<XorOp>, Mnemonic.Xor);
        On(&Semantics.Alu.Generic<CmpOp>, Mnemonic.Cmp);
        On(&Semantics.Alu.Generic<TestOp>, Mnemonic.Test);
        On(&Semantics.Alu.Inc, Mnemonic.Inc);
        On(&Semantics.Alu.Dec, Mnemonic.Dec);
        On(&Semantics.Alu.Neg, Mnemonic.Neg);
        On(&Semantics.Alu.Not, Mnemonic.Not);
        On(&Shift.Shl, Mnemonic.Shl, Mnemonic.Sal);
        On(&Shift.Shr, Mnemonic.Shr);
        On(&Shift.Sar, Mnemonic.Sar);
        On(&Shift.Rol, Mnemonic.Rol);
        On(&Shift.Ror, Mnemonic.Ror);
        On(&Shift.Rcl, Mnemonic.Rcl);
        On(&Shift.Rcr, Mnemonic.Rcr);
        On(&Shift.DoubleShift, Mnemonic.Shld, Mnemonic.Shrd);
        On(&MulDiv.Mul, Mnemonic.Mul);
        On(&MulDiv.Imul, Mnemonic.Imul);
        On(&MulDiv.Div, Mnemonic.Div);
        On(&MulDiv.Idiv, Mnemonic.Idiv);
        On(&Bits.BitTest, Mnemonic.Bt, Mnemonic.Bts, Mnemonic.Btr, Mnemonic.Btc);
        On(&Bits.Bsf, Mnemonic.Bsf);
        On(&Bits.Bsr, Mnemonic.Bsr);
        On(&Bits.Tzcnt, Mnemonic.Tzcnt);
        On(&Bits.Lzcnt, Mnemonic.Lzcnt);
        On(&Bits.Popcnt, Mnemonic.Popcnt);

        // Data movement
        On(&Mov.Movzx, Mnemonic.Movzx);
        On(&Mov.Movsx, Mnemonic.Movsx, Mnemonic.Movsxd);
        On(&Mov.Lea, Mnemonic.Lea);
        On(&Mov.Xchg, Mnemonic.Xchg);
        On(&Mov.Cmovcc, Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove,
            Mnemonic.Cmovne, Mnemonic.Cmovbe, Mnemonic.Cmova, Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp,
            Mnemonic.Cmovnp, Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg);
        On(&Mov.Setcc, Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete, Mnemonic.Setne,
            Mnemonic.Setbe, Mnemonic.Seta, Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp,
            Mnemonic.Setl, Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg);
        On(&Mov.Bswap, Mnemonic.Bswap);
        On(&Mov.SignExtendAccumulator, Mnemonic.Cbw, Mnemonic.Cwde, Mnemonic.Cdqe);
        On(&Mov.SignFillDx, Mnemonic.Cwd, Mnemonic.Cdq, Mnemonic.Cqo);
        On(&Mov.Nop, Mnemonic.Nop, Mnemonic.Pause, Mnemonic.Lfence, Mnemonic.Mfence, Mnemonic.Sfence,
            Mnemonic.Prefetchnta, Mnemonic.Prefetcht0, Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Prefetchw,
            Mnemonic.Endbr64, Mnemonic.Endbr32, Mnemonic.Clflush, Mnemonic.Prefetch, Mnemonic.Prefetchwt1,
            Mnemonic.Cldemote, Mnemonic.Rdsspd, Mnemonic.Rdsspq, Mnemonic.Reservednop);
        On(&Mov.Xlat, Mnemonic.Xlatb);
        On(&Mov.Xadd, Mnemonic.Xadd);
        On(&Mov.Cmpxchg, Mnemonic.Cmpxchg);
        On(&Mov.CmpxchgDouble, Mnemonic.Cmpxchg8b, Mnemonic.Cmpxchg16b);

        // Stack
        On(&Stack.Push, Mnemonic.Push);
        On(&Stack.Pop, Mnemonic.Pop);
        On(&Stack.Pushf, Mnemonic.Pushf, Mnemonic.Pushfd, Mnemonic.Pushfq);
        On(&Stack.Popf, Mnemonic.Popf, Mnemonic.Popfd, Mnemonic.Popfq);
        On(&Stack.Pusha, Mnemonic.Pusha, Mnemonic.Pushad);
        On(&Stack.Popa, Mnemonic.Popa, Mnemonic.Popad);
        On(&Stack.Leave, Mnemonic.Leave);
        On(&Stack.Enter, Mnemonic.Enter);

        // Control flow
        On(&Flow.Jcc, Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne, Mnemonic.Jbe,
            Mnemonic.Ja, Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl, Mnemonic.Jge, Mnemonic.Jle,
            Mnemonic.Jg);
        On(&Flow.Loop, Mnemonic.Loop, Mnemonic.Loope, Mnemonic.Loopne);
        On(&Flow.Jrcxz, Mnemonic.Jrcxz, Mnemonic.Jecxz, Mnemonic.Jcxz);
        On(&Flow.Ret, Mnemonic.Ret);
        On(&Flow.RetFar, Mnemonic.Retf);
        On(&Flow.Int, Mnemonic.Int);
        On(&Flow.Int3, Mnemonic.Int3);
        On(&Flow.Into, Mnemonic.Into);
        On(&Flow.Iret, Mnemonic.Iret, Mnemonic.Iretd, Mnemonic.Iretq);
        On(&Flow.Hlt, Mnemonic.Hlt);
        On(&Flow.Syscall, Mnemonic.Syscall);
        On(&Flow.Sysret, Mnemonic.Sysret, Mnemonic.Sysretq);
        On(&Flow.Ud, Mnemonic.Ud2, Mnemonic.Ud0, Mnemonic.Ud1);

        // Strings and flags
        On(&StringOps.Movs, Mnemonic.Movsb, Mnemonic.Movsw, Mnemonic.Movsq);
        On(&StringOps.Stos, Mnemonic.Stosb, Mnemonic.Stosw, Mnemonic.Stosd, Mnemonic.Stosq);
        On(&StringOps.Lods, Mnemonic.Lodsb, Mnemonic.Lodsw, Mnemonic.Lodsd, Mnemonic.Lodsq);
        On(&StringOps.Cmps, Mnemonic.Cmpsb, Mnemonic.Cmpsw, Mnemonic.Cmpsq);
        On(&StringOps.Scas, Mnemonic.Scasb, Mnemonic.Scasw, Mnemonic.Scasd, Mnemonic.Scasq);
        On(&StringOps.Ins, Mnemonic.Insb, Mnemonic.Insw, Mnemonic.Insd);
        On(&StringOps.Outs, Mnemonic.Outsb, Mnemonic.Outsw, Mnemonic.Outsd);
        On(&FlagOps.Clc, Mnemonic.Clc);
        On(&FlagOps.Stc, Mnemonic.Stc);
        On(&FlagOps.Cmc, Mnemonic.Cmc);
        On(&FlagOps.Cld, Mnemonic.Cld);
        On(&FlagOps.Std, Mnemonic.Std);
        On(&FlagOps.Lahf, Mnemonic.Lahf);
        On(&FlagOps.Sahf, Mnemonic.Sahf);

        // System
        On(&SystemOps.LoadDescriptorTable, Mnemonic.Lgdt, Mnemonic.Lidt);
        On(&SystemOps.StoreDescriptorTable, Mnemonic.Sgdt, Mnemonic.Sidt);
        On(&SystemOps.LoadSystemSegment, Mnemonic.Ltr, Mnemonic.Lldt);
        On(&SystemOps.StoreSystemSegment, Mnemonic.Str, Mnemonic.Sldt);
        On(&SystemOps.Invlpg, Mnemonic.Invlpg);
        On(&SystemOps.Rdmsr, Mnemonic.Rdmsr);
        On(&SystemOps.Wrmsr, Mnemonic.Wrmsr);
        On(&SystemOps.Rdtsc, Mnemonic.Rdtsc, Mnemonic.Rdtscp);
        On(&SystemOps.Cpuid, Mnemonic.Cpuid);
        On(&SystemOps.In, Mnemonic.In);
        On(&SystemOps.Out, Mnemonic.Out);
        On(&SystemOps.Cli, Mnemonic.Cli);
        On(&SystemOps.Sti, Mnemonic.Sti);
        On(&SystemOps.Clts, Mnemonic.Clts);
        On(&SystemOps.Swapgs, Mnemonic.Swapgs);
        On(&SystemOps.CacheControl, Mnemonic.Wbinvd, Mnemonic.Invd);
        On(&SystemOps.Smsw, Mnemonic.Smsw);
        On(&SystemOps.Lmsw, Mnemonic.Lmsw);
        On(&SystemOps.FsGsBase, Mnemonic.Rdfsbase, Mnemonic.Rdgsbase, Mnemonic.Wrfsbase, Mnemonic.Wrgsbase);

        // SSE / SSE2
        On(&MovFull, Mnemonic.Movaps, Mnemonic.Movups, Mnemonic.Movapd, Mnemonic.Movupd, Mnemonic.Movdqa,
            Mnemonic.Movdqu, Mnemonic.Movntdq, Mnemonic.Movntps, Mnemonic.Movntpd, Mnemonic.Lddqu);
        On(&MovdMovq, Mnemonic.Movd, Mnemonic.Movq);
        On(&MovScalar, Mnemonic.Movss, Mnemonic.Movsd);
        On(&MovHalf, Mnemonic.Movlps, Mnemonic.Movlpd, Mnemonic.Movhps, Mnemonic.Movhpd, Mnemonic.Movhlps, Mnemonic.Movlhps);
        On(&PMovMskB, Mnemonic.Pmovmskb);
        On(&MovMsk, Mnemonic.Movmskpd, Mnemonic.Movmskps);
        On(&Pshufd, Mnemonic.Pshufd);
        On(&PshufLowHigh, Mnemonic.Pshuflw, Mnemonic.Pshufhw);
        On(&Shufps, Mnemonic.Shufps);
        On(&Shufpd, Mnemonic.Shufpd);
        On(&ByteShift, Mnemonic.Psrldq, Mnemonic.Pslldq);
        On(&Pextrw, Mnemonic.Pextrw);
        On(&Pinsrw, Mnemonic.Pinsrw);
        On(&Ldmxcsr, Mnemonic.Ldmxcsr);
        On(&Stmxcsr, Mnemonic.Stmxcsr);
        On(&Fxsave, Mnemonic.Fxsave, Mnemonic.Fxsave64);
        On(&Fxrstor, Mnemonic.Fxrstor, Mnemonic.Fxrstor64);
        On(&CompareToFlags, Mnemonic.Ucomisd, Mnemonic.Comisd, Mnemonic.Ucomiss, Mnemonic.Comiss);
        On(&CompareMask, Mnemonic.Cmpsd, Mnemonic.Cmpss, Mnemonic.Cmppd, Mnemonic.Cmpps);
        On(&IntToScalar, Mnemonic.Cvtsi2sd, Mnemonic.Cvtsi2ss);
        On(&ScalarToInt, Mnemonic.Cvtsd2si, Mnemonic.Cvttsd2si, Mnemonic.Cvtss2si, Mnemonic.Cvttss2si);
        On(&SdToSs, Mnemonic.Cvtsd2ss);
        On(&SsToSd, Mnemonic.Cvtss2sd);
        On(&Dq2Pd, Mnemonic.Cvtdq2pd);
        On(&Pd2Dq, Mnemonic.Cvtpd2dq, Mnemonic.Cvttpd2dq);
        On(&Ps2Dq, Mnemonic.Cvtps2dq, Mnemonic.Cvttps2dq);
        On(&Dq2Ps, Mnemonic.Cvtdq2ps);
        On(&Pd2Ps, Mnemonic.Cvtpd2ps);
        On(&Ps2Pd, Mnemonic.Cvtps2pd);
        On(&Sqrt, Mnemonic.Sqrtsd, Mnemonic.Sqrtss, Mnemonic.Sqrtpd, Mnemonic.Sqrtps);
        SseTable.Register((h, ms) => { foreach (var m in ms) byMnemonic[m] = h; });
        X87Table.Register((h, ms) => { foreach (var m in ms) byMnemonic[m] = h; });
        MiscTable.Register((h, ms) => { foreach (var m in ms) byMnemonic[m] = h; });
        ExtensionTable.Register((h, ms) => { foreach (var m in ms) byMnemonic[m] = h; });

        var table = new delegate*<Cpu, ref DecodedOp, void>[Enum.GetValues<Code>().Length];
        for (int i = 0; i < table.Length; i++)
        {
            var m = ((Code)i).Mnemonic();
            Implemented[i] = byMnemonic.TryGetValue(m, out nint h);
            table[i] = Implemented[i] ? (delegate*<Cpu, ref DecodedOp, void>)h : &Unimplemented;
        }
        return table;
    }

    /// <summary>Picks the handler for one decoded instruction, preferring specialized forms. An instruction whose
    /// CPUID features <paramref name="model"/> does not advertise gets the #UD handler (<see cref="FeatureGate"/>).</summary>
    public static delegate*<Cpu, ref DecodedOp, void> Select(ref DecodedOp op, CpuModel model)
    {
        var insn = op.Insn;
        if (!FeatureGate.Advertised(model, insn.Code)) return &NotAdvertised;
        var m = insn.Mnemonic;
        bool r0 = op.K0 == OperandKind.Register, r1 = op.K1 == OperandKind.Register;
        bool i1 = op.K1 == OperandKind.Immediate, m0 = op.K0 == OperandKind.Memory, m1 = op.K1 == OperandKind.Memory;
        // MMX forms share mnemonics with the SSE2 forms the tables implement; their registers are not XMM registers.
        for (int i = 0; i < insn.OpCount; i++)
            if (insn.GetOpKind(i) == Iced.Intel.OpKind.Register && insn.GetOpRegister(i).IsMM()) return &UnimplementedMmx;
        switch (m)
        {
            case Mnemonic.Mov:
                if (r0 && insn.Op0Register.IsCR()) return &SystemOps.MovToCr;
                if (r1 && insn.Op1Register.IsCR()) return &SystemOps.MovFromCr;
                if (r0 && insn.Op0Register.IsDR()) return &SystemOps.MovToDr;
                if (r1 && insn.Op1Register.IsDR()) return &SystemOps.MovFromDr;
                if (r0 && insn.Op0Register.IsSegmentRegister()) return &SystemOps.MovToSeg;
                if (r1 && insn.Op1Register.IsSegmentRegister()) return &SystemOps.MovFromSeg;
                if (r0 && r1) return &Mov.RegReg;
                if (r0 && i1) return &Mov.RegImm;
                if (r0 && m1) return &Mov.RegMem;
                if (m0 && r1) return &Mov.MemReg;
                if (m0 && i1) return &Mov.MemImm;
                break;
            case Mnemonic.Add: return AluForm<AddOp>(r0, r1, i1);
            case Mnemonic.Sub: return AluForm<SubOp>(r0, r1, i1);
            case Mnemonic.And: return AluForm<AndOp>(r0, r1, i1);
            case Mnemonic.Or: return AluForm<OrOp>(r0, r1, i1);
            case Mnemonic.Xor: return AluForm<XorOp>(r0, r1, i1);
            case Mnemonic.Cmp: return AluForm<CmpOp>(r0, r1, i1);
            case Mnemonic.Test: return AluForm<TestOp>(r0, r1, i1);
            case Mnemonic.Inc when r0: return &Alu.IncReg;
            case Mnemonic.Dec when r0: return &Alu.DecReg;
            case Mnemonic.Push:
                if (r0 && insn.Op0Register.IsSegmentRegister()) return &SystemOps.PushSeg;
                if (r0) return &Stack.PushReg;
                break;
            case Mnemonic.Pop:
                if (r0 && insn.Op0Register.IsSegmentRegister()) return &SystemOps.PopSeg;
                if (r0) return &Stack.PopReg;
                break;
            case Mnemonic.Jmp:
                if (insn.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64) return &Flow.JmpRel;
                if (insn.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32 || insn.IsJmpFarIndirect) return &Flow.JmpFar;
                return &Flow.JmpIndirect;
            case Mnemonic.Call:
                if (insn.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64) return &Flow.CallRel;
                if (insn.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32 || insn.IsCallFarIndirect) return &Flow.CallFar;
                return &Flow.CallIndirect;
            case Mnemonic.Movsd when insn.OpCount == 0 || insn.Op0Kind is OpKind.MemoryESDI or OpKind.MemoryESEDI or OpKind.MemoryESRDI:
                return &StringOps.Movs;
            case Mnemonic.Cmpsd when insn.OpCount == 0 || insn.Op0Kind is OpKind.MemorySegSI or OpKind.MemorySegESI or OpKind.MemorySegRSI:
                return &StringOps.Cmps;
        }
        return ByCode[(int)insn.Code];
    }

    public static bool HasHandler(Code code) => Implemented[(int)code];

    private static delegate*<Cpu, ref DecodedOp, void> AluForm<T>(bool r0, bool r1, bool i1) where T : struct, IAluOp
    {
        if (r0 && r1) return &Semantics.Alu.RegReg<T>;
        if (r0 && i1) return &Semantics.Alu.RegImm<T>;
        return &Semantics.Alu.Generic<T>;
    }

    /// <summary>An invalid encoding, or an instruction whose feature the CPU model does not advertise: #UD.</summary>
    private static void NotAdvertised(Cpu c, ref DecodedOp op) => c.RaiseFault(State.Vector.UD);

    /// <summary>An instruction the model advertises but the CPU does not implement: stop the machine and say which.</summary>
    private static void Unimplemented(Cpu c, ref DecodedOp op)
    {
        if (op.Insn.Code == Code.INVALID) { c.RaiseFault(State.Vector.UD); return; }
        c.Rip = c.InstructionStart;
        c.StopUnsupported($"unimplemented instruction {op.Insn.Mnemonic} (advertised by CPU model {c.Model.Name})");
    }

    /// <summary>An MMX-register form of an SSE instruction (CVTPI2PS, PSHUFW, ...; the MMX register file is not
    /// modelled): advertised with SSE but not implemented, so the machine stops and says so. Instructions of the MMX
    /// feature itself are #UD through <see cref="FeatureGate"/>, since no model advertises MMX.</summary>
    private static void UnimplementedMmx(Cpu c, ref DecodedOp op)
    {
        c.Rip = c.InstructionStart;
        c.StopUnsupported($"unimplemented MMX form of {op.Insn.Mnemonic}");
    }
}
