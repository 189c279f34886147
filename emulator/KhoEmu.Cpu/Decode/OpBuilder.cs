using Iced.Intel;
using KhoEmu.Cpu.Dispatch;
using KhoEmu.Cpu.State;

namespace KhoEmu.Cpu.Decode;

/// <summary>Turns an Iced <see cref="Instruction"/> into a <see cref="DecodedOp"/> bound to its handler (or to #UD
/// when the CPU model does not advertise the instruction's feature).</summary>
internal static unsafe class OpBuilder
{
    public const byte NoRegister = 16;

    public static DecodedOp Build(in Instruction insn, CpuModel model)
    {
        var op = new DecodedOp
        {
            Insn = insn,
            Length = (byte)insn.Length,
            Base = NoRegister,
            Index = NoRegister,
            R0 = NoRegister,
            R1 = NoRegister,
            R2 = NoRegister,
            Seg = SegReg.DS,
            AddrMask = ulong.MaxValue,
            AddrSize = 8,
            Rep = insn.HasRepPrefix || insn.HasRepePrefix ? (byte)1 : insn.HasRepnePrefix ? (byte)2 : (byte)0,
        };
        int count = Math.Min(insn.OpCount, 3);
        int immSeen = 0;
        for (int i = 0; i < count; i++)
        {
            var kind = insn.GetOpKind(i);
            OperandKind k;
            byte reg = NoRegister;
            switch (kind)
            {
                case OpKind.Register:
                    k = OperandKind.Register;
                    reg = RegisterIndex(insn.GetOpRegister(i));
                    break;
                case OpKind.Memory:
                    k = OperandKind.Memory;
                    SetMemory(ref op, insn);
                    break;
                case OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate64
                    or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64
                    or OpKind.Immediate32to64 or OpKind.Immediate8_2nd:
                    k = OperandKind.Immediate;
                    if (immSeen++ == 0) op.Imm = insn.GetImmediate(i);
                    else op.Imm2 = insn.GetImmediate(i);
                    break;
                case OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64:
                    k = OperandKind.Immediate;
                    op.BranchDelta = (long)(insn.NearBranchTarget - insn.NextIP);
                    break;
                case OpKind.FarBranch16 or OpKind.FarBranch32:
                    k = OperandKind.Immediate;
                    op.Imm = kind == OpKind.FarBranch16 ? insn.FarBranch16 : insn.FarBranch32;
                    op.Imm2 = insn.FarBranchSelector;
                    break;
                case OpKind.MemorySegSI or OpKind.MemorySegDI or OpKind.MemoryESDI:
                    k = OperandKind.None;
                    SetStringAddressing(ref op, insn, 2);
                    break;
                case OpKind.MemorySegESI or OpKind.MemorySegEDI or OpKind.MemoryESEDI:
                    k = OperandKind.None;
                    SetStringAddressing(ref op, insn, 4);
                    break;
                case OpKind.MemorySegRSI or OpKind.MemorySegRDI or OpKind.MemoryESRDI:
                    k = OperandKind.None;
                    SetStringAddressing(ref op, insn, 8);
                    break;
                default:
                    k = OperandKind.None;
                    break;
            }
            if (i == 0) { op.K0 = k; op.R0 = reg; }
            else if (i == 1) { op.K1 = k; op.R1 = reg; }
            else { op.K2 = k; op.R2 = reg; }
        }
        op.Size = (byte)(count == 0 ? ImplicitOperandSize(insn) : OperandSize(insn, 0));
        op.SrcSize = (byte)(count > 1 ? OperandSize(insn, 1) : op.Size);
        op.Cc = (byte)ConditionIndex(insn.ConditionCode);
        op.IpMask = IpMask(insn);
        int spi = Math.Abs(insn.StackPointerIncrement);
        if (insn.Mnemonic == Mnemonic.Ret || insn.Mnemonic == Mnemonic.Retf) spi -= (int)(insn.OpCount > 0 ? insn.Immediate16 : 0);
        if (insn.Mnemonic == Mnemonic.Retf) spi /= 2;
        op.StackSize = (byte)Math.Min(spi, 8);
        if (insn.Mnemonic is Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne or Mnemonic.Jrcxz or Mnemonic.Jecxz or Mnemonic.Jcxz)
            SetCounterSize(ref op, insn.Code.ToString());
        op.Exec = HandlerTable.Select(ref op, model);
        return op;
    }

    /// <summary>Width of the instruction pointer after a near branch of this instruction's operand size.</summary>
    private static ulong IpMask(in Instruction insn)
    {
        for (int i = 0; i < insn.OpCount; i++)
        {
            var k = insn.GetOpKind(i);
            if (k == OpKind.NearBranch16) return 0xFFFF;
            if (k == OpKind.NearBranch32) return 0xFFFF_FFFF;
            if (k == OpKind.NearBranch64) return ulong.MaxValue;
        }
        return insn.CodeSize switch { CodeSize.Code64 => ulong.MaxValue, CodeSize.Code32 => 0xFFFF_FFFF, _ => 0xFFFF };
    }

    /// <summary>LOOP/JrCXZ count with CX, ECX or RCX as the address size says; Iced names it in the code.</summary>
    private static void SetCounterSize(ref DecodedOp op, string code)
    {
        int size = code.EndsWith("_RCX", StringComparison.Ordinal) ? 8 : code.EndsWith("_ECX", StringComparison.Ordinal) ? 4 : 2;
        op.AddrSize = (byte)size;
        op.AddrMask = size == 8 ? ulong.MaxValue : size == 4 ? 0xFFFF_FFFF : 0xFFFF;
    }

    private static void SetMemory(ref DecodedOp op, in Instruction insn)
    {
        op.Seg = SegmentIndex(insn.MemorySegment);
        var b = insn.MemoryBase;
        var x = insn.MemoryIndex;
        int addrSize;
        if (b == Register.RIP || b == Register.EIP)
        {
            op.RipRelative = true;
            op.Disp = (long)(insn.IPRelativeMemoryAddress - insn.NextIP);
            addrSize = b == Register.RIP ? 8 : 4;
        }
        else
        {
            if (b != Register.None) op.Base = RegisterIndex(b);
            if (x != Register.None) op.Index = RegisterIndex(x);
            op.Scale = (byte)(insn.MemoryIndexScale switch { 1 => 0, 2 => 1, 4 => 2, _ => 3 });
            op.Disp = (long)insn.MemoryDisplacement64;
            addrSize = b != Register.None ? b.GetSize() : x != Register.None ? x.GetSize() : insn.MemoryDisplSize;
            if (addrSize is not (2 or 4 or 8)) addrSize = insn.CodeSize switch { CodeSize.Code16 => 2, CodeSize.Code32 => 4, _ => 8 };
        }
        op.AddrSize = (byte)addrSize;
        op.AddrMask = addrSize == 8 ? ulong.MaxValue : addrSize == 4 ? 0xFFFF_FFFF : 0xFFFF;
    }

    private static void SetStringAddressing(ref DecodedOp op, in Instruction insn, int addrSize)
    {
        op.AddrSize = (byte)addrSize;
        op.AddrMask = addrSize == 8 ? ulong.MaxValue : addrSize == 4 ? 0xFFFF_FFFF : 0xFFFF;
        if (insn.GetOpKind(0) is not (OpKind.MemoryESDI or OpKind.MemoryESEDI or OpKind.MemoryESRDI)
            || insn.OpCount > 1 && insn.GetOpKind(1) is OpKind.MemorySegSI or OpKind.MemorySegESI or OpKind.MemorySegRSI)
            op.Seg = SegmentIndex(insn.MemorySegment);
    }

    /// <summary>Operand size of instructions without explicit operands (CBW/CWDE/CDQE, CWD/CDQ/CQO, ...).</summary>
    private static int ImplicitOperandSize(in Instruction insn) => insn.Mnemonic switch
    {
        Mnemonic.Cbw or Mnemonic.Cwd or Mnemonic.Pushf or Mnemonic.Popf or Mnemonic.Pusha or Mnemonic.Popa or Mnemonic.Iret => 2,
        Mnemonic.Cwde or Mnemonic.Cdq or Mnemonic.Pushfd or Mnemonic.Popfd or Mnemonic.Pushad or Mnemonic.Popad or Mnemonic.Iretd => 4,
        Mnemonic.Cdqe or Mnemonic.Cqo or Mnemonic.Pushfq or Mnemonic.Popfq or Mnemonic.Iretq => 8,
        _ => insn.CodeSize switch { CodeSize.Code16 => 2, CodeSize.Code32 => 4, _ => 8 },
    };

    /// <summary>Operand size in bytes of operand <paramref name="i"/>.</summary>
    private static int OperandSize(in Instruction insn, int i)
    {
        if (i >= insn.OpCount) return 0;
        switch (insn.GetOpKind(i))
        {
            case OpKind.Register:
                return insn.GetOpRegister(i).GetSize();
            case OpKind.Memory:
                return insn.MemorySize.GetSize();
            case OpKind.Immediate8 or OpKind.Immediate8_2nd:
                return 1;
            case OpKind.Immediate16 or OpKind.Immediate8to16:
                return 2;
            case OpKind.Immediate32 or OpKind.Immediate8to32:
                return 4;
            case OpKind.Immediate64 or OpKind.Immediate8to64 or OpKind.Immediate32to64:
                return 8;
            default:
                int s = insn.MemorySize.GetElementSize();
                return s > 0 ? s : insn.CodeSize switch { CodeSize.Code16 => 2, CodeSize.Code32 => 4, _ => 8 };
        }
    }

    /// <summary>Maps an Iced register to this CPU's index: GPRs 0-15, AH..BH 16-19, XMM 0-15, segments 0-5, CRn n.</summary>
    public static byte RegisterIndex(Register r)
    {
        if (r == Register.None) return NoRegister;
        if (r >= Register.AH && r <= Register.BH) return (byte)(16 + (r - Register.AH));
        if (r.IsGPR()) return (byte)(r.GetFullRegister() - Register.RAX);
        if (r.IsXMM()) return (byte)(r - Register.XMM0);
        if (r.IsSegmentRegister()) return SegmentIndex(r);
        if (r >= Register.CR0 && r <= Register.CR15) return (byte)(r - Register.CR0);
        if (r >= Register.DR0 && r <= Register.DR15) return (byte)(r - Register.DR0);
        return NoRegister;
    }

    public static byte SegmentIndex(Register r) => r switch
    {
        Register.ES => SegReg.ES,
        Register.CS => SegReg.CS,
        Register.SS => SegReg.SS,
        Register.DS => SegReg.DS,
        Register.FS => SegReg.FS,
        Register.GS => SegReg.GS,
        _ => SegReg.DS,
    };

    /// <summary>Iced's condition code as the x86 encoding's low nibble (0 = O ... 15 = G).</summary>
    private static int ConditionIndex(ConditionCode cc) => cc switch
    {
        ConditionCode.o => 0, ConditionCode.no => 1, ConditionCode.b => 2, ConditionCode.ae => 3,
        ConditionCode.e => 4, ConditionCode.ne => 5, ConditionCode.be => 6, ConditionCode.a => 7,
        ConditionCode.s => 8, ConditionCode.ns => 9, ConditionCode.p => 10, ConditionCode.np => 11,
        ConditionCode.l => 12, ConditionCode.ge => 13, ConditionCode.le => 14, ConditionCode.g => 15,
        _ => 0,
    };
}
