namespace KhoEmu.Cpu.SseFloat;

/// <summary>
/// One lane of ADD/SUB/MUL/DIV/SQRT (SS/SD/PS/PD, and the SSE3 ADDSUB/HADD/HSUB) on raw bits, under MXCSR.
/// <see cref="Single"/> and <see cref="Double"/> first try the fast path: round to nearest, operands normal or zero
/// and a result comfortably inside the normal range, where the host's IEEE operation gives the result and an exact
/// error term (TwoSum; a fused multiply-add residual for products, quotients and square roots) says whether it was
/// inexact. Everything else goes to <see cref="FpExact"/>, which computes the exact value in integers and rounds it
/// once. Flags accumulate in <c>flags</c> (MXCSR bit positions); the caller decides from them whether to fault.
/// </summary>
internal static class FpArith
{
    public static uint Single(FpOp op, uint a, uint b, uint mxcsr, ref uint flags)
    {
        if ((mxcsr & MxcsrBits.RcMask) == 0 && Plain32(b) && (op == FpOp.Sqrt || Plain32(a)))
        {
            double x = BitConverter.UInt32BitsToSingle(a), y = BitConverter.UInt32BitsToSingle(b);
            double r; bool inexact;
            switch (op)
            {
                case FpOp.Add: r = x + y; inexact = TwoSumError(x, y, r) != 0; break;
                case FpOp.Sub: r = x - y; inexact = TwoSumError(x, -y, r) != 0; break;
                case FpOp.Mul: r = x * y; inexact = false; break; // 24 x 24 bits: exact in binary64
                case FpOp.Div: r = x / y; inexact = double.IsFinite(r) && Math.FusedMultiplyAdd(-r, y, x) != 0; break;
                default: r = Math.Sqrt(y); inexact = Math.FusedMultiplyAdd(-r, r, y) != 0; break;
            }
            // Binary64 has more than 2p+2 bits, so rounding r again to binary32 is the correctly rounded result.
            float f = (float)r;
            uint mag = BitConverter.SingleToUInt32Bits(f) & 0x7FFF_FFFF;
            inexact |= f != r;
            // Above the smallest normal (a result equal to it may still be tiny after rounding) and finite.
            if ((mag > 0x0080_0000 && mag < 0x7F80_0000) || (mag == 0 && !inexact))
            {
                if (inexact) flags |= MxcsrBits.PE;
                return BitConverter.SingleToUInt32Bits(f);
            }
        }
        return (uint)FpExact.Compute(op, a, b, FpFormat.Single, mxcsr, ref flags);
    }

    public static ulong Double(FpOp op, ulong a, ulong b, uint mxcsr, ref uint flags)
    {
        if ((mxcsr & MxcsrBits.RcMask) == 0 && Moderate64(b) && (op == FpOp.Sqrt || Moderate64(a)))
        {
            double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b);
            double r; bool inexact;
            switch (op)
            {
                case FpOp.Add: r = x + y; inexact = TwoSumError(x, y, r) != 0; break;
                case FpOp.Sub: r = x - y; inexact = TwoSumError(x, -y, r) != 0; break;
                case FpOp.Mul: r = x * y; inexact = Math.FusedMultiplyAdd(x, y, -r) != 0; break;
                case FpOp.Div: r = x / y; inexact = Math.FusedMultiplyAdd(-r, y, x) != 0; break;
                default: r = Math.Sqrt(y); inexact = Math.FusedMultiplyAdd(-r, r, y) != 0; break;
            }
            // The residuals are exact only while their last place stays above 2^-1074: hence results from 2^-959 up.
            ulong exp = (BitConverter.DoubleToUInt64Bits(r) >> 52) & 0x7FF;
            bool exactZero = r == 0 && !inexact && op switch { FpOp.Add or FpOp.Sub => true, FpOp.Mul => x == 0 || y == 0, FpOp.Div => x == 0, _ => y == 0 };
            if ((exp >= 64 && exp < 0x7FF) || exactZero)
            {
                if (inexact) flags |= MxcsrBits.PE;
                return BitConverter.DoubleToUInt64Bits(r);
            }
        }
        return FpExact.Compute(op, a, b, FpFormat.Double, mxcsr, ref flags);
    }

    /// <summary>The error of r = RN(x + y) (Knuth's TwoSum; exact without overflow).</summary>
    private static double TwoSumError(double x, double y, double r)
    {
        double bp = r - x;
        return (x - (r - bp)) + (y - bp);
    }

    /// <summary>Zero or normal (no denormal, infinity or NaN).</summary>
    private static bool Plain32(uint x)
    {
        uint exp = x & 0x7F80_0000;
        return (exp != 0 && exp != 0x7F80_0000) || (x & 0x7FFF_FFFF) == 0;
    }

    /// <summary>Zero or normal with |x| in [2^-958, 2^960): the fast path's residuals stay exact.</summary>
    private static bool Moderate64(ulong x)
    {
        ulong exp = (x >> 52) & 0x7FF;
        return (exp >= 65 && exp < 1983) || (x & ~(1UL << 63)) == 0;
    }
}
