using Iced.Intel;
using KhoEmu.Cpu.X87;
using static Iced.Intel.AssemblerRegisters;
using static KhoEmu.Cpu.Tests.X87.X87Op;
using static KhoEmu.Cpu.Tests.X87.X87Thunk;

namespace KhoEmu.Cpu.Tests.X87;

/// <summary>FRNDINT, FSCALE, FXTRACT, FPREM, FPREM1, packed BCD and the constants.</summary>
internal static partial class X87Ops
{
    private static void ScaleOperands(Random r, ref X87Block b)
    {
        Pair(r, ref b);
        Float80 n = r.Next(3) switch
        {
            0 => SoftFloat80.FromInt64(r.Next(-70, 70)),
            1 => SoftFloat80.FromInt64(r.Next(-40000, 40000)),
            _ => X87Operands.NearInteger(r),
        };
        if (r.Next(4) != 0) { b.B0 = n.Significand; b.B1 = n.SignExponent; }
    }

    private static void IntegerLike(Random r, ref X87Block b)
    {
        One(r, ref b);
        if (r.Next(3) == 0) return;
        Float80 v = X87Operands.NearInteger(r);
        b.A0 = v.Significand; b.A1 = v.SignExponent;
    }

    private static void RemainderOperands(Random r, ref X87Block b)
    {
        Pair(r, ref b);
        if (r.Next(2) == 0 && (b.A1 & 0x7FFF) is > 0 and < 0x7FFF)
        {
            // divisor exponent within -10 .. +140 of the dividend's: complete and partial steps
            int e = Math.Clamp((int)(b.A1 & 0x7FFF) - r.Next(-10, 140), 1, 0x7FFE);
            b.B1 = (b.B1 & 0x8000) | (uint)e;
            b.B0 |= 0x8000_0000_0000_0000;
        }
    }

    private static IEnumerable<X87Op> Integer()
    {
        yield return new("frndint", a => { a.fld(A(10)); a.frndint(); StoreResults(a, 1); },
            (ref X87Block b) =>
            {
                var f = new X87Flags();
                SetR1(ref b, SoftFloat80.RoundToInteger(A80(b), b.Cw, ref f));
                b.Sw = Sw(f);
            }, IntegerLike, 10, Cases: 60_000);
        yield return new("fscale", a => { LoadBoth(a); a.fscale(); StoreResults(a, 1); },
            (ref X87Block b) =>
            {
                var f = new X87Flags();
                SetR1(ref b, SoftFloat80.Scale(A80(b), B80(b), b.Cw, ref f));
                b.Sw = Sw(f);
            }, ScaleOperands, 10, Cases: 60_000);
        yield return new("fxtract", a => { a.fld(A(10)); a.fxtract(); StoreResults(a, 2); },
            (ref X87Block b) =>
            {
                var f = new X87Flags();
                SoftFloat80.Extract(A80(b), b.Cw, ref f, out Float80 exponent, out Float80 significand);
                SetR1(ref b, significand);
                SetR2(ref b, exponent);
                b.Sw = Sw(f);
            }, One, 10, 10, Cases: 30_000);
        foreach (bool ieee in new[] { false, true })
            yield return new(ieee ? "fprem1" : "fprem", a => { LoadBoth(a); if (ieee) a.fprem1(); else a.fprem(); StoreResults(a, 1); },
                (ref X87Block b) =>
                {
                    var f = new X87Flags();
                    SetR1(ref b, SoftFloat80.PartialRemainder(A80(b), B80(b), ieee, b.Cw, ref f, out int q, out bool incomplete));
                    b.Sw = Sw(f, ((q & 4) != 0 ? C0 : 0) | ((q & 2) != 0 ? C3 : 0) | ((q & 1) != 0 ? C1 : 0) | (incomplete ? C2 : 0));
                }, RemainderOperands, 10, SwMask: 0x3F | C0 | C1 | C2 | C3, Cases: 80_000);
        yield return new("fbld", a => { a.fbld(A(10)); StoreResults(a, 1); },
            (ref X87Block b) =>
            {
                Span<byte> bcd = stackalloc byte[16];
                BitConverter.TryWriteBytes(bcd, b.A0);
                BitConverter.TryWriteBytes(bcd[8..], b.A1);
                SetR1(ref b, SoftFloat80.FromBcd(bcd));
                b.Sw = 0;
            }, (Random r, ref X87Block b) => { (b.A0, b.A1) = X87Operands.Bcd(r); b.Cw = X87Operands.ControlWord(r, false); }, 10, Cases: 10_000);
        yield return new("fbstp", a => { a.fld(A(10)); a.fbstp(R1(10)); a.fnstsw(SwSlot); a.fnclex(); },
            (ref X87Block b) =>
            {
                var f = new X87Flags();
                Span<byte> bcd = stackalloc byte[10];
                SoftFloat80.ToBcd(A80(b), b.Cw, ref f, bcd);
                b.R10 = BitConverter.ToUInt64(bcd);
                b.R11 = BitConverter.ToUInt16(bcd[8..]);
                b.Sw = Sw(f);
            }, IntegerLike, 10, MemoryStore: true, Cases: 40_000);
        (string, Action<Assembler>, X87Constant)[] constants =
        [
            ("fld1", a => a.fld1(), X87Constant.One), ("fldl2t", a => a.fldl2t(), X87Constant.Log2Ten),
            ("fldl2e", a => a.fldl2e(), X87Constant.Log2E), ("fldpi", a => a.fldpi(), X87Constant.Pi),
            ("fldlg2", a => a.fldlg2(), X87Constant.Log10Two), ("fldln2", a => a.fldln2(), X87Constant.LnTwo),
            ("fldz", a => a.fldz(), X87Constant.Zero),
        ];
        foreach ((string name, Action<Assembler> load, X87Constant which) in constants)
            yield return new(name, a => { load(a); StoreResults(a, 1); },
                (ref X87Block b) => { SetR1(ref b, SoftFloat80.Constant(which, b.Cw)); b.Sw = 0; },
                (Random r, ref X87Block b) => b.Cw = X87Operands.ControlWord(r, true), 10, Cases: 200);
    }
}
