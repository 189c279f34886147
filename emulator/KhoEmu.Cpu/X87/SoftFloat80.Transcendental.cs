namespace KhoEmu.Cpu.X87;

public static partial class SoftFloat80
{
    /// <summary>F2XM1: 2^a − 1, defined for −1 ≤ a ≤ +1 (beyond that the result is undefined on hardware; this
    /// computes 2^a − 1 all the same).</summary>
    public static Float80 F2xm1(Float80 a, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(a)) return InvalidResult(ref f);
        if (IsNaN(a)) return PropagateNaN(a, a, ref f);
        if (IsZero(a)) return a;
        if (IsInfinity(a)) return a.Sign ? Float80.One.Negate() : a;
        if (DenormalStops(a, a, cw, ref f)) return a;
        WideFloat t = WideFloat.From(a) * WideFloat.Ln2;
        if (t.Exp > 0) return (Exp2Wide(WideFloat.From(a)) - WideFloat.One).Round(cw, ref f);
        return Expm1(t).Round(cw, ref f);
    }

    /// <summary>2^x for |x| beyond 1 (outside F2XM1's domain): 2^n × e^(frac·ln 2).</summary>
    private static WideFloat Exp2Wide(WideFloat x)
    {
        double d = (double)(ulong)(x.Sig >> 64) * Math.Pow(2, x.Exp - 63);
        d = Math.Clamp(Math.Round(d), -70000, 70000);
        WideFloat frac = x - WideFloat.FromInt((long)d);
        return (Expm1(frac * WideFloat.Ln2) + WideFloat.One).Scale((int)d);
    }

    /// <summary>FYL2X: <paramref name="y"/> × log2(<paramref name="x"/>).</summary>
    public static Float80 Fyl2x(Float80 x, Float80 y, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(x) || IsUnsupported(y)) return InvalidResult(ref f);
        if (IsNaN(x) || IsNaN(y)) return PropagateNaN(x, y, ref f);
        bool zeroX = IsZero(x), zeroY = IsZero(y), infX = IsInfinity(x), infY = IsInfinity(y);
        if (x.Sign && !zeroX) return InvalidResult(ref f);
        if (zeroX)
        {
            if (zeroY) return InvalidResult(ref f);
            if (!infY)
            {
                f.Raised |= X87Exception.ZeroDivide; // a denormal y raises no DE here (host)
            }
            return Pack(!y.Sign, MaxExponent, IntegerBit);
        }
        bool one = x == Float80.One;
        if ((infX && zeroY) || (one && infY)) return InvalidResult(ref f);
        if (DenormalStops(x, y, cw, ref f)) return x;
        if (infX) return Pack(y.Sign, MaxExponent, IntegerBit);
        WideFloat l = Log2(WideFloat.From(x));
        bool logNegative = l.Sign;
        if (infY) return Pack(y.Sign ^ logNegative, MaxExponent, IntegerBit);
        if (zeroY || l.IsZero) return Pack(y.Sign ^ logNegative, 0, 0);
        return (WideFloat.From(y) * l).Round(cw, ref f);
    }

    /// <summary>FYL2XP1: <paramref name="y"/> × log2(<paramref name="x"/> + 1), defined for |x| &lt; 1 − √2/2.</summary>
    public static Float80 Fyl2xp1(Float80 x, Float80 y, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(x) || IsUnsupported(y)) return InvalidResult(ref f);
        if (IsNaN(x) || IsNaN(y)) return PropagateNaN(x, y, ref f);
        bool zeroX = IsZero(x), zeroY = IsZero(y), infX = IsInfinity(x), infY = IsInfinity(y);
        if ((zeroX && infY) || (infX && zeroY)) return InvalidResult(ref f);
        WideFloat wx = infX || zeroX ? default : WideFloat.From(x);
        if (x.Sign && !zeroX && (infX || wx.Exp >= 0)) return InvalidResult(ref f); // x ≤ −1
        if (DenormalStops(x, y, cw, ref f)) return x;
        bool sign = x.Sign ^ y.Sign;
        if (infX || infY) return Pack(sign, MaxExponent, IntegerBit);
        if (zeroX || zeroY) return Pack(sign, 0, 0);
        return (WideFloat.From(y) * Log2OnePlus(wx)).Round(cw, ref f);
    }

    /// <summary>FPATAN: arctan(<paramref name="y"/> / <paramref name="x"/>) with the quadrant from both signs.</summary>
    public static Float80 Fpatan(Float80 y, Float80 x, ushort cw, ref X87Flags f)
    {
        f.RoundedUp = false;
        if (IsUnsupported(x) || IsUnsupported(y)) return InvalidResult(ref f);
        if (IsNaN(x) || IsNaN(y)) return PropagateNaN(y, x, ref f);
        if (DenormalStops(x, y, cw, ref f)) return x;
        bool zeroX = IsZero(x), zeroY = IsZero(y), infX = IsInfinity(x), infY = IsInfinity(y);
        WideFloat r;
        if (zeroY && !infX)
        {
            if (!x.Sign) return y;
            r = WideFloat.Pi;
        }
        else if (infY)
            r = infX ? (x.Sign ? WideFloat.Pi * WideFloat.FromInt(3) : WideFloat.Pi).Scale(-2) : WideFloat.HalfPi;
        else if (infX)
        {
            if (!x.Sign) return Pack(y.Sign, 0, 0);
            r = WideFloat.Pi;
        }
        else if (zeroX) r = WideFloat.HalfPi;
        else
        {
            WideFloat ay = WideFloat.From(y).Abs(), ax = WideFloat.From(x).Abs();
            bool swap = ay.Exp > ax.Exp || (ay.Exp == ax.Exp && ay.Sig > ax.Sig);
            r = swap ? WideFloat.HalfPi - Atan(ax / ay) : Atan(ay / ax);
            if (x.Sign) r = WideFloat.Pi - r;
        }
        return (r with { Sign = y.Sign }).Round(cw, ref f);
    }

    /// <summary>FPTAN's tangent: the caller then pushes 1.0, or the NaN itself when the result is a NaN (masked
    /// invalid or NaN operand: both registers hold it, as on the host). C2 set and nothing computed (nothing
    /// pushed) when |a| ≥ 2^63.</summary>
    public static Float80 Tan(Float80 a, ushort cw, ref X87Flags f, out bool outOfRange) =>
        Trig(a, cw, ref f, out outOfRange, out _, 2);

    public static Float80 Sin(Float80 a, ushort cw, ref X87Flags f, out bool outOfRange) =>
        Trig(a, cw, ref f, out outOfRange, out _, 0);

    public static Float80 Cos(Float80 a, ushort cw, ref X87Flags f, out bool outOfRange) =>
        Trig(a, cw, ref f, out outOfRange, out _, 1);

    /// <summary>FSINCOS: both from one reduction; C1 is the cosine's (the value pushed on top). A NaN result
    /// (masked invalid, NaN operand) is returned in both. C2 set and nothing computed when |a| ≥ 2^63.</summary>
    public static void SinCos(Float80 a, ushort cw, ref X87Flags f, out Float80 sin, out Float80 cos, out bool outOfRange)
    {
        sin = Trig(a, cw, ref f, out outOfRange, out cos, 3);
    }

    /// <param name="which">0 sin, 1 cos, 2 tan, 3 sin with cos in <paramref name="second"/>.</param>
    private static Float80 Trig(Float80 a, ushort cw, ref X87Flags f, out bool outOfRange, out Float80 second, int which)
    {
        f.RoundedUp = false;
        outOfRange = false;
        second = default;
        if (IsUnsupported(a) || IsInfinity(a)) return second = InvalidResult(ref f);
        if (IsNaN(a)) return second = PropagateNaN(a, a, ref f);
        if (a.Exponent >= Float80.Bias + 63)
        {
            outOfRange = true;
            return second = a;
        }
        if (IsZero(a))
        {
            second = Float80.One;
            return which == 1 ? Float80.One : a;
        }
        if (DenormalStops(a, a, cw, ref f)) return second = a;
        WideFloat r = Reduce(a, out int q);
        // sin(x) and cos(x) from the quadrant of x = qπ/2 + r; only the series needed are evaluated
        bool odd = (q & 1) != 0, needSin = which != 1, needCos = which != 0;
        WideFloat sinX = needSin ? SinCosSeries(r, odd) : default;
        WideFloat cosX = needCos ? SinCosSeries(r, !odd) : default;
        if ((q & 2) != 0) sinX = sinX.Negate();
        if (((q + 1) & 2) != 0) cosX = cosX.Negate();
        if (a.Sign) sinX = sinX.Negate();
        switch (which)
        {
            case 0: return sinX.Round(cw, ref f);
            case 1: return cosX.Round(cw, ref f);
            case 2: return (sinX / cosX).Round(cw, ref f);
            default:
                Float80 sin = sinX.Round(cw, ref f);
                second = cosX.Round(cw, ref f);
                return sin;
        }
    }
}
