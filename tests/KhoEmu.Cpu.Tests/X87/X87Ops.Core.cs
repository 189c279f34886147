using Iced.Intel;
using KhoEmu.Cpu.X87;
using static Iced.Intel.AssemblerRegisters;
using static KhoEmu.Cpu.Tests.X87.X87Op;
using static KhoEmu.Cpu.Tests.X87.X87Thunk;

namespace KhoEmu.Cpu.Tests.X87;

/// <summary>The operations of the differential test: arithmetic, compares and conversions.</summary>
internal static partial class X87Ops
{
    public delegate Float80 Binary(Float80 a, Float80 b, ushort cw, ref X87Flags f);

    public static IEnumerable<X87Op> All() => Core().Concat(Integer()).Concat(Transcendental());

    /// <summary>st0 = A, st1 = B (B loaded first).</summary>
    public static void LoadBoth(Assembler a)
    {
        a.fld(B(10));
        a.fld(A(10));
    }

    /// <summary>Status word, clear pending exceptions, then store st0 to R1 (and st1 to R2).</summary>
    public static void StoreResults(Assembler a, int results)
    {
        a.fnstsw(SwSlot);
        a.fnclex();
        a.fstp(R1(10));
        if (results > 1) a.fstp(R2(10));
    }

    public static void Pair(Random r, ref X87Block b, bool unmasked = true)
    {
        (Float80 x, Float80 y) = X87Operands.Pair(r);
        b.A0 = x.Significand; b.A1 = x.SignExponent;
        b.B0 = y.Significand; b.B1 = y.SignExponent;
        b.Cw = X87Operands.ControlWord(r, unmasked);
    }

    public static void One(Random r, ref X87Block b)
    {
        Float80 x = X87Operands.Value(r);
        b.A0 = x.Significand; b.A1 = x.SignExponent;
        b.Cw = X87Operands.ControlWord(r, true);
    }

    private static X87Op BinaryOp(string name, Action<Assembler> op, Binary soft) => new(name,
        a => { LoadBoth(a); op(a); StoreResults(a, 1); },
        (ref X87Block b) =>
        {
            var f = new X87Flags();
            SetR1(ref b, soft(A80(b), B80(b), b.Cw, ref f));
            b.Sw = Sw(f);
        },
        (Random r, ref X87Block b) => Pair(r, ref b), 10, Cases: 120_000);

    private static int CompareBits(X87Ordering o) => o switch
    {
        X87Ordering.Greater => 0,
        X87Ordering.Less => C0,
        X87Ordering.Equal => C3,
        _ => C0 | C2 | C3,
    };

    private static ulong CompareRflags(X87Ordering o) => o switch
    {
        X87Ordering.Greater => 0,
        X87Ordering.Less => 1, // CF
        X87Ordering.Equal => 0x40, // ZF
        _ => 0x45,
    };

    private static IEnumerable<X87Op> Core()
    {
        yield return BinaryOp("fadd", a => a.fadd(st0, st1), SoftFloat80.Add);
        yield return BinaryOp("fsub", a => a.fsub(st0, st1), SoftFloat80.Sub);
        yield return BinaryOp("fmul", a => a.fmul(st0, st1), SoftFloat80.Mul);
        yield return BinaryOp("fdiv", a => a.fdiv(st0, st1), SoftFloat80.Div);
        yield return new("fsqrt", a => { a.fld(A(10)); a.fsqrt(); StoreResults(a, 1); },
            (ref X87Block b) =>
            {
                var f = new X87Flags();
                SetR1(ref b, SoftFloat80.Sqrt(A80(b), b.Cw, ref f));
                b.Sw = Sw(f);
            }, One, 10, Cases: 80_000);
        foreach (bool quiet in new[] { false, true })
        {
            yield return new(quiet ? "fucom" : "fcom", a => { LoadBoth(a); if (quiet) a.fucom(st0, st1); else a.fcom(st0, st1); StoreResults(a, 2); },
                (ref X87Block b) =>
                {
                    var f = new X87Flags();
                    X87Ordering o = SoftFloat80.Compare(A80(b), B80(b), quiet, ref f);
                    b.Sw = Sw(f, CompareBits(o));
                }, (Random r, ref X87Block b) => Pair(r, ref b), 0, SwMask: 0x3F | C0 | C1 | C2 | C3);
            yield return new(quiet ? "fucomi" : "fcomi", a =>
                {
                    LoadBoth(a);
                    if (quiet) a.fucomi(st0, st1); else a.fcomi(st0, st1);
                    a.pushfq(); a.pop(rax); a.mov(RflagsSlot, rax);
                    StoreResults(a, 2);
                },
                (ref X87Block b) =>
                {
                    var f = new X87Flags();
                    X87Ordering o = SoftFloat80.Compare(A80(b), B80(b), quiet, ref f);
                    b.Sw = Sw(f);
                    b.Flags = CompareRflags(o);
                }, (Random r, ref X87Block b) => Pair(r, ref b), 0, RflagsMask: 0x45);
        }
        yield return new("fxam", a => { a.fld(A(10)); a.fxam(); StoreResults(a, 1); },
            (ref X87Block b) =>
            {
                int c = (int)SoftFloat80.Examine(A80(b));
                b.Sw = (ushort)(((c & 1) != 0 ? C0 : 0) | ((c & 2) != 0 ? C2 : 0) | ((c & 4) != 0 ? C3 : 0) | (A80(b).Sign ? C1 : 0));
            }, One, 0, SwMask: 0x3F | C0 | C1 | C2 | C3, Cases: 20_000);
        yield return new("fld m32", a => { a.fld(A(4)); StoreResults(a, 1); },
            (ref X87Block b) =>
            {
                var f = new X87Flags();
                SetR1(ref b, SoftFloat80.FromSingle((uint)b.A0, ref f));
                b.Sw = Sw(f);
            }, (Random r, ref X87Block b) => { b.A0 = X87Operands.Single(r); b.Cw = X87Operands.ControlWord(r, true); }, 10, Cases: 30_000);
        yield return new("fld m64", a => { a.fld(A(8)); StoreResults(a, 1); },
            (ref X87Block b) =>
            {
                var f = new X87Flags();
                SetR1(ref b, SoftFloat80.FromDouble(b.A0, ref f));
                b.Sw = Sw(f);
            }, (Random r, ref X87Block b) => { b.A0 = X87Operands.Double(r); b.Cw = X87Operands.ControlWord(r, true); }, 10, Cases: 30_000);
        yield return new("fst m32", a => { a.fld(A(10)); a.fst(R1(4)); a.fnstsw(SwSlot); a.fnclex(); },
            (ref X87Block b) =>
            {
                var f = new X87Flags();
                b.R10 = SoftFloat80.ToSingle(A80(b), b.Cw, ref f);
                b.Sw = Sw(f);
            }, One, 4, MemoryStore: true, Cases: 80_000);
        yield return new("fst m64", a => { a.fld(A(10)); a.fst(R1(8)); a.fnstsw(SwSlot); a.fnclex(); },
            (ref X87Block b) =>
            {
                var f = new X87Flags();
                b.R10 = SoftFloat80.ToDouble(A80(b), b.Cw, ref f);
                b.Sw = Sw(f);
            }, One, 8, MemoryStore: true, Cases: 80_000);
        foreach (int bits in new[] { 16, 32, 64 })
        {
            int size = bits / 8;
            yield return new($"fild m{bits}", a => { a.fild(A(size)); StoreResults(a, 1); },
                (ref X87Block b) =>
                {
                    long v = bits == 16 ? (short)b.A0 : bits == 32 ? (int)b.A0 : (long)b.A0;
                    SetR1(ref b, SoftFloat80.FromInt64(v));
                    b.Sw = 0;
                }, (Random r, ref X87Block b) => { b.A0 = (ulong)X87Operands.Integer(r); b.Cw = X87Operands.ControlWord(r, false); }, 10, Cases: 10_000);
            foreach (bool truncate in new[] { false, true })
                yield return new(truncate ? $"fisttp m{bits}" : $"fistp m{bits}",
                    a =>
                    {
                        a.fld(A(10));
                        if (truncate) a.fisttp(R1(size)); else a.fistp(R1(size));
                        a.fnstsw(SwSlot); a.fnclex();
                    },
                    (ref X87Block b) =>
                    {
                        var f = new X87Flags();
                        b.R10 = (ulong)SoftFloat80.ToInt(A80(b), bits, truncate, b.Cw, ref f);
                        b.Sw = Sw(f);
                    }, One, size, MemoryStore: true, Cases: 40_000);
        }
    }
}
