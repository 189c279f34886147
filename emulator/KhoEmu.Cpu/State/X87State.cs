using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using KhoEmu.Cpu.X87;

namespace KhoEmu.Cpu.State;

/// <summary>
/// The x87 FPU's architectural state (Intel SDM vol. 1, 8.1): eight 80-bit data registers, control word, status word
/// (TOP in bits 11-13), the full tag word (two bits per physical register: 00 valid, 01 zero, 10 special, 11 empty),
/// and the last instruction pointer/selector, last data pointer/selector and last opcode (FOP, 11 bits).
/// The tag word is kept consistent with the register contents: every register write recomputes its tag, as hardware
/// recomputes non-empty tags from the contents whenever the tag word is stored.
/// </summary>
public struct X87State
{
    public const ushort StatusIE = 1 << 0, StatusSF = 1 << 6, StatusES = 1 << 7, StatusC0 = 1 << 8, StatusC1 = 1 << 9;
    public const ushort StatusC2 = 1 << 10, StatusC3 = 1 << 14, StatusB = 1 << 15, StatusTop = 7 << 11;
    public const ushort StatusConditions = StatusC0 | StatusC1 | StatusC2 | StatusC3;
    /// <summary>The six exception flags (status word) and masks (control word), bits 0-5.</summary>
    public const ushort ExceptionBits = 0x3F;

    public X87Registers Registers;
    public ushort ControlWord;
    public ushort StatusWord;
    public ushort TagWord;
    public ulong LastInstructionPointer;
    public ushort LastInstructionSelector;
    public ulong LastDataPointer;
    public ushort LastDataSelector;
    public ushort LastOpcode;

    /// <summary>Power-on and RESET values (SDM vol. 3, table 9-1): FCW 0040H, FSW 0, FTW 5555H, registers +0.0.</summary>
    public static X87State PowerOn => new() { ControlWord = 0x0040, TagWord = 0x5555 };

    /// <summary>The state FNINIT leaves (SDM vol. 1, 8.1.5 and FINIT): FCW 037FH, FSW 0, all registers empty.</summary>
    public static X87State AfterInit(in X87State old)
    {
        var s = new X87State { Registers = old.Registers, ControlWord = 0x037F, TagWord = 0xFFFF };
        return s;
    }

    public int Top
    {
        readonly get => (StatusWord >> 11) & 7;
        set => StatusWord = (ushort)((StatusWord & ~StatusTop) | ((value & 7) << 11));
    }

    /// <summary>Physical register number of ST(<paramref name="i"/>).</summary>
    public readonly int Physical(int i) => (Top + i) & 7;

    [UnscopedRef]
    public ref Float80 St(int i) => ref Registers[(Top + i) & 7];

    public readonly int Tag(int physical) => (TagWord >> (physical * 2)) & 3;
    public readonly bool IsEmpty(int stIndex) => Tag(Physical(stIndex)) == 3;

    public void SetTag(int physical, int tag) =>
        TagWord = (ushort)((TagWord & ~(3 << (physical * 2))) | ((tag & 3) << (physical * 2)));

    /// <summary>Writes ST(<paramref name="i"/>) and marks it non-empty with the tag its contents call for.</summary>
    public void SetSt(int i, Float80 v)
    {
        int p = Physical(i);
        Registers[p] = v;
        SetTag(p, TagFor(v));
    }

    /// <summary>The tag a non-empty register holding <paramref name="v"/> has (SDM vol. 1, 8.1.7).</summary>
    public static int TagFor(Float80 v)
    {
        int e = v.Exponent;
        if (e == 0) return v.Significand == 0 ? 1 : 2;          // zero; denormal and pseudo-denormal are special
        if (e == 0x7FFF) return 2;                               // infinity, NaN, pseudo-NaN/infinity
        return (v.Significand >> 63) != 0 ? 0 : 2;               // unnormals are special (unsupported)
    }

    /// <summary>Bit i set when physical register i is not empty (the FXSAVE abridged tag, SDM vol. 1, 10.5.1.1).</summary>
    public readonly byte AbridgedTag
    {
        get
        {
            int t = 0;
            for (int p = 0; p < 8; p++) if (Tag(p) != 3) t |= 1 << p;
            return (byte)t;
        }
    }

    /// <summary>Loads a tag word as FLDENV/FRSTOR do: empty stays empty, every other tag is recomputed from the
    /// register contents (the processor only distinguishes empty from non-empty when it loads tags).</summary>
    public void LoadTagWord(ushort tags)
    {
        for (int p = 0; p < 8; p++)
            SetTag(p, ((tags >> (p * 2)) & 3) == 3 ? 3 : TagFor(Registers[p]));
    }

    public void LoadAbridgedTag(byte tags)
    {
        for (int p = 0; p < 8; p++) SetTag(p, (tags & (1 << p)) == 0 ? 3 : TagFor(Registers[p]));
    }

    /// <summary>
    /// ES (and B, which the 387 and later copy from it) summarise "an unmasked exception flag is set"; hardware keeps
    /// them so after every instruction, including loads of the control or status word.
    /// </summary>
    public void UpdateErrorSummary()
    {
        bool pending = (StatusWord & ~ControlWord & ExceptionBits) != 0;
        StatusWord = pending ? (ushort)(StatusWord | StatusES | StatusB) : (ushort)(StatusWord & ~(StatusES | StatusB));
    }

    public readonly bool ErrorPending => (StatusWord & StatusES) != 0;

    // ---- FXSAVE image, bytes 0-159 (SDM vol. 1, 10.5.1, table 10-2) -------------------------------------------------

    /// <summary>Writes the x87 part of an FXSAVE image; <paramref name="wide"/> is the REX.W (FXSAVE64) form with
    /// 64-bit FIP/FDP instead of FIP/FCS and FDP/FDS.</summary>
    public readonly void WriteFxsave(Span<byte> area, bool wide)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(area, ControlWord);
        BinaryPrimitives.WriteUInt16LittleEndian(area[2..], StatusWord);
        area[4] = AbridgedTag;
        area[5] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(area[6..], LastOpcode);
        if (wide)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(area[8..], LastInstructionPointer);
            BinaryPrimitives.WriteUInt64LittleEndian(area[16..], LastDataPointer);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(area[8..], (uint)LastInstructionPointer);
            BinaryPrimitives.WriteUInt32LittleEndian(area[12..], LastInstructionSelector);
            BinaryPrimitives.WriteUInt32LittleEndian(area[16..], (uint)LastDataPointer);
            BinaryPrimitives.WriteUInt32LittleEndian(area[20..], LastDataSelector);
        }
        for (int i = 0; i < 8; i++)
        {
            var slot = area.Slice(32 + i * 16, 16);
            slot.Clear();
            var v = Registers[(Top + i) & 7];
            BinaryPrimitives.WriteUInt64LittleEndian(slot, v.Significand);
            BinaryPrimitives.WriteUInt16LittleEndian(slot[8..], v.SignExponent);
        }
    }

    /// <summary>Loads the x87 part of an FXSAVE image (FXRSTOR / FXRSTOR64).</summary>
    public void ReadFxsave(ReadOnlySpan<byte> area, bool wide)
    {
        ControlWord = BinaryPrimitives.ReadUInt16LittleEndian(area);
        StatusWord = BinaryPrimitives.ReadUInt16LittleEndian(area[2..]);
        LastOpcode = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(area[6..]) & 0x7FF);
        if (wide)
        {
            LastInstructionPointer = BinaryPrimitives.ReadUInt64LittleEndian(area[8..]);
            LastDataPointer = BinaryPrimitives.ReadUInt64LittleEndian(area[16..]);
            LastInstructionSelector = LastDataSelector = 0;
        }
        else
        {
            LastInstructionPointer = BinaryPrimitives.ReadUInt32LittleEndian(area[8..]);
            LastInstructionSelector = BinaryPrimitives.ReadUInt16LittleEndian(area[12..]);
            LastDataPointer = BinaryPrimitives.ReadUInt32LittleEndian(area[16..]);
            LastDataSelector = BinaryPrimitives.ReadUInt16LittleEndian(area[20..]);
        }
        for (int i = 0; i < 8; i++)
        {
            var slot = area.Slice(32 + i * 16, 10);
            Registers[(Top + i) & 7] = new Float80(BinaryPrimitives.ReadUInt64LittleEndian(slot),
                BinaryPrimitives.ReadUInt16LittleEndian(slot[8..]));
        }
        LoadAbridgedTag(area[4]);
    }

    /// <summary>The x87 FPU register image of an FXSAVE area as a fresh state (tests, snapshots).</summary>
    public static X87State FromFxsave(ReadOnlySpan<byte> area, bool wide = true)
    {
        var s = new X87State();
        s.ReadFxsave(area, wide);
        return s;
    }
}
