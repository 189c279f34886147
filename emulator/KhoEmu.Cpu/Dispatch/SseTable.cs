using System.Runtime.Intrinsics;
using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.SseFloat;
using static KhoEmu.Cpu.Semantics.Sse;

namespace KhoEmu.Cpu.Dispatch;

/// <summary>Table rows for the lane-wise SSE/SSE2 operations, each one line: mnemonic → lane function.</summary>
internal static unsafe class SseTable
{
    public static void Register(Action<nint, Mnemonic[]> on)
    {
        void Reg(delegate*<Cpu, ref DecodedOp, void> h, params Mnemonic[] ms) => on((nint)h, ms);
        Reg(&Pxor, Mnemonic.Pxor, Mnemonic.Xorps, Mnemonic.Xorpd);
        Reg(&Por, Mnemonic.Por, Mnemonic.Orps, Mnemonic.Orpd);
        Reg(&Pand, Mnemonic.Pand, Mnemonic.Andps, Mnemonic.Andpd);
        Reg(&Pandn, Mnemonic.Pandn, Mnemonic.Andnps, Mnemonic.Andnpd);
        Reg(&Paddb, Mnemonic.Paddb);
        Reg(&Paddw, Mnemonic.Paddw);
        Reg(&Paddd, Mnemonic.Paddd);
        Reg(&Paddq, Mnemonic.Paddq);
        Reg(&Psubb, Mnemonic.Psubb);
        Reg(&Psubw, Mnemonic.Psubw);
        Reg(&Psubd, Mnemonic.Psubd);
        Reg(&Psubq, Mnemonic.Psubq);
        Reg(&Pcmpeqb, Mnemonic.Pcmpeqb);
        Reg(&Pcmpeqw, Mnemonic.Pcmpeqw);
        Reg(&Pcmpeqd, Mnemonic.Pcmpeqd);
        Reg(&Pcmpgtb, Mnemonic.Pcmpgtb);
        Reg(&Pcmpgtw, Mnemonic.Pcmpgtw);
        Reg(&Pcmpgtd, Mnemonic.Pcmpgtd);
        Reg(&Pminub, Mnemonic.Pminub);
        Reg(&Pmaxub, Mnemonic.Pmaxub);
        Reg(&Pminsw, Mnemonic.Pminsw);
        Reg(&Pmaxsw, Mnemonic.Pmaxsw);
        Reg(&Pmullw, Mnemonic.Pmullw);
        Reg(&Pmuludq, Mnemonic.Pmuludq);
        Reg(&Punpcklbw, Mnemonic.Punpcklbw);
        Reg(&Punpcklwd, Mnemonic.Punpcklwd);
        Reg(&Punpckldq, Mnemonic.Punpckldq, Mnemonic.Unpcklps);
        Reg(&Punpcklqdq, Mnemonic.Punpcklqdq, Mnemonic.Unpcklpd);
        Reg(&Punpckhbw, Mnemonic.Punpckhbw);
        Reg(&Punpckhwd, Mnemonic.Punpckhwd);
        Reg(&Punpckhdq, Mnemonic.Punpckhdq, Mnemonic.Unpckhps);
        Reg(&Punpckhqdq, Mnemonic.Punpckhqdq, Mnemonic.Unpckhpd);
        Reg(&ShiftLanesHandler, Mnemonic.Psrlw, Mnemonic.Psrld, Mnemonic.Psrlq, Mnemonic.Psllw, Mnemonic.Pslld,
            Mnemonic.Psllq, Mnemonic.Psraw, Mnemonic.Psrad);
        Reg(&Paddsb, Mnemonic.Paddsb);
        Reg(&Paddsw, Mnemonic.Paddsw);
        Reg(&Paddusb, Mnemonic.Paddusb);
        Reg(&Paddusw, Mnemonic.Paddusw);
        Reg(&Psubsb, Mnemonic.Psubsb);
        Reg(&Psubsw, Mnemonic.Psubsw);
        Reg(&Psubusb, Mnemonic.Psubusb);
        Reg(&Psubusw, Mnemonic.Psubusw);
        Reg(&Pavgb, Mnemonic.Pavgb);
        Reg(&Pavgw, Mnemonic.Pavgw);
        Reg(&Pmulhw, Mnemonic.Pmulhw);
        Reg(&Pmulhuw, Mnemonic.Pmulhuw);
        Reg(&PackWordsToBytes, Mnemonic.Packsswb, Mnemonic.Packuswb);
        Reg(&Packssdw, Mnemonic.Packssdw);
        Reg(&Pmaddwd, Mnemonic.Pmaddwd);
        Reg(&Psadbw, Mnemonic.Psadbw);
        Reg(&MinMax, Mnemonic.Minps, Mnemonic.Minss, Mnemonic.Minpd, Mnemonic.Minsd, Mnemonic.Maxps, Mnemonic.Maxss,
            Mnemonic.Maxpd, Mnemonic.Maxsd);
        Reg(&ReciprocalApprox, Mnemonic.Rcpps, Mnemonic.Rcpss, Mnemonic.Rsqrtps, Mnemonic.Rsqrtss);
        Reg(&Maskmovdqu, Mnemonic.Maskmovdqu);
        // MOVNTI: a plain store of a general register; the non-temporal hint has no effect without modelled caches.
        Reg(&Semantics.Mov.MemReg, Mnemonic.Movnti);
        Reg(&Addsd, Mnemonic.Addsd);
        Reg(&Subsd, Mnemonic.Subsd);
        Reg(&Mulsd, Mnemonic.Mulsd);
        Reg(&Divsd, Mnemonic.Divsd);
        Reg(&Addss, Mnemonic.Addss);
        Reg(&Subss, Mnemonic.Subss);
        Reg(&Mulss, Mnemonic.Mulss);
        Reg(&Divss, Mnemonic.Divss);
        Reg(&Addpd, Mnemonic.Addpd);
        Reg(&Subpd, Mnemonic.Subpd);
        Reg(&Mulpd, Mnemonic.Mulpd);
        Reg(&Divpd, Mnemonic.Divpd);
        Reg(&Addps, Mnemonic.Addps);
        Reg(&Subps, Mnemonic.Subps);
        Reg(&Mulps, Mnemonic.Mulps);
        Reg(&Divps, Mnemonic.Divps);
    }

    private static void Pxor(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => a ^ b);
    private static void Por(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => a | b);
    private static void Pand(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => a & b);
    private static void Pandn(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => ~a & b);
    private static void Paddb(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => (a.AsByte() + b.AsByte()).AsUInt64());
    private static void Paddw(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => (a.AsUInt16() + b.AsUInt16()).AsUInt64());
    private static void Paddd(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => (a.AsUInt32() + b.AsUInt32()).AsUInt64());
    private static void Paddq(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => a + b);
    private static void Psubb(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => (a.AsByte() - b.AsByte()).AsUInt64());
    private static void Psubw(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => (a.AsUInt16() - b.AsUInt16()).AsUInt64());
    private static void Psubd(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => (a.AsUInt32() - b.AsUInt32()).AsUInt64());
    private static void Psubq(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => a - b);
    private static void Pcmpeqb(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => Vector128.Equals(a.AsByte(), b.AsByte()).AsUInt64());
    private static void Pcmpeqw(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => Vector128.Equals(a.AsUInt16(), b.AsUInt16()).AsUInt64());
    private static void Pcmpeqd(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => Vector128.Equals(a.AsUInt32(), b.AsUInt32()).AsUInt64());
    private static void Pcmpgtb(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => Vector128.GreaterThan(a.AsSByte(), b.AsSByte()).AsUInt64());
    private static void Pcmpgtw(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => Vector128.GreaterThan(a.AsInt16(), b.AsInt16()).AsUInt64());
    private static void Pcmpgtd(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => Vector128.GreaterThan(a.AsInt32(), b.AsInt32()).AsUInt64());
    private static void Pminub(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => Vector128.Min(a.AsByte(), b.AsByte()).AsUInt64());
    private static void Pmaxub(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => Vector128.Max(a.AsByte(), b.AsByte()).AsUInt64());
    private static void Pminsw(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => Vector128.Min(a.AsInt16(), b.AsInt16()).AsUInt64());
    private static void Pmaxsw(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => Vector128.Max(a.AsInt16(), b.AsInt16()).AsUInt64());
    private static void Pmullw(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) => (a.AsUInt16() * b.AsUInt16()).AsUInt64());
    private static void Pmuludq(Cpu c, ref DecodedOp op) => Packed(c, ref op, static (a, b) =>
        Vector128.Create((a.GetElement(0) & 0xFFFF_FFFF) * (b.GetElement(0) & 0xFFFF_FFFF), (a.GetElement(1) & 0xFFFF_FFFF) * (b.GetElement(1) & 0xFFFF_FFFF)));
    private static void Punpcklbw(Cpu c, ref DecodedOp op) => Unpack(c, ref op, 1, false);
    private static void Punpcklwd(Cpu c, ref DecodedOp op) => Unpack(c, ref op, 2, false);
    private static void Punpckldq(Cpu c, ref DecodedOp op) => Unpack(c, ref op, 4, false);
    private static void Punpcklqdq(Cpu c, ref DecodedOp op) => Unpack(c, ref op, 8, false);
    private static void Punpckhbw(Cpu c, ref DecodedOp op) => Unpack(c, ref op, 1, true);
    private static void Punpckhwd(Cpu c, ref DecodedOp op) => Unpack(c, ref op, 2, true);
    private static void Punpckhdq(Cpu c, ref DecodedOp op) => Unpack(c, ref op, 4, true);
    private static void Punpckhqdq(Cpu c, ref DecodedOp op) => Unpack(c, ref op, 8, true);

    private static void ShiftLanesHandler(Cpu c, ref DecodedOp op)
    {
        var m = op.Insn.Mnemonic;
        int lane = m is Mnemonic.Psrlw or Mnemonic.Psllw or Mnemonic.Psraw ? 2 : m is Mnemonic.Psrlq or Mnemonic.Psllq ? 8 : 4;
        int kind = m is Mnemonic.Psrlw or Mnemonic.Psrld or Mnemonic.Psrlq ? 0 : m is Mnemonic.Psllw or Mnemonic.Pslld or Mnemonic.Psllq ? 1 : 2;
        ShiftLanes(c, ref op, lane, kind);
    }

    private static void Addsd(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Add, true, true);
    private static void Subsd(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Sub, true, true);
    private static void Mulsd(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Mul, true, true);
    private static void Divsd(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Div, true, true);
    private static void Addss(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Add, false, true);
    private static void Subss(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Sub, false, true);
    private static void Mulss(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Mul, false, true);
    private static void Divss(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Div, false, true);
    private static void Addpd(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Add, true, false);
    private static void Subpd(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Sub, true, false);
    private static void Mulpd(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Mul, true, false);
    private static void Divpd(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Div, true, false);
    private static void Addps(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Add, false, false);
    private static void Subps(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Sub, false, false);
    private static void Mulps(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Mul, false, false);
    private static void Divps(Cpu c, ref DecodedOp op) => Arith(c, ref op, FpOp.Div, false, false);
}
