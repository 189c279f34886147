using KhoEmu.Cpu.X87;
using NUnit.Framework;

namespace KhoEmu.Cpu.Tests.X87;

/// <summary>
/// Host-independent checks of SoftFloat80: values and flags the host x87 produced for cases the differential test
/// found where the SDM leaves a choice (kept as fixed vectors so they hold on any host).
/// </summary>
[TestFixture]
public sealed class SoftFloat80KnownValueTests
{
    private const ushort Masked = 0x037F; // all masked, RN, 64-bit
    private static Float80 F(int se, ulong sig) => new(sig, (ushort)se);

    [Test]
    public void OneThirdRoundsPerRoundingControl()
    {
        var f = new X87Flags();
        Float80 third = SoftFloat80.Div(Float80.One, SoftFloat80.FromInt64(3), Masked, ref f);
        Assert.That(third, Is.EqualTo(F(0x3FFD, 0xAAAAAAAAAAAAAAAB)));
        Assert.That(f.Raised, Is.EqualTo(X87Exception.Precision));
        Assert.That(f.RoundedUp, Is.True);
        f = new X87Flags();
        Assert.That(SoftFloat80.Div(Float80.One, SoftFloat80.FromInt64(3), 0x0F7F, ref f), Is.EqualTo(F(0x3FFD, 0xAAAAAAAAAAAAAAAA)));
        Assert.That(f.RoundedUp, Is.False);
        f = new X87Flags();
        Assert.That(SoftFloat80.Div(Float80.One, SoftFloat80.FromInt64(3), 0x007F, ref f), Is.EqualTo(F(0x3FFD, 0xAAAAAB0000000000)), "PC = 24 bits");
    }

    [Test]
    public void TininessIsDetectedAfterRounding()
    {
        // −(smallest normal) + 3 × 2^−16445 at 53 bits, rounding down: rounds to −(smallest normal), no UE.
        var f = new X87Flags();
        Float80 r = SoftFloat80.Add(F(0x8001, 0x8000000000000000), F(0x0000, 3), 0x067F, ref f);
        Assert.That(r, Is.EqualTo(F(0x8001, 0x8000000000000000)));
        Assert.That(f.Raised, Is.EqualTo(X87Exception.Denormal | X87Exception.Precision));
    }

    [Test]
    public void DenormalDividedByZeroRaisesOnlyZeroDivide()
    {
        var f = new X87Flags();
        Float80 r = SoftFloat80.Div(F(0x0000, 4), Float80.Zero, Masked, ref f);
        Assert.That(r, Is.EqualTo(Float80.PositiveInfinity));
        Assert.That(f.Raised, Is.EqualTo(X87Exception.ZeroDivide));
    }

    [Test]
    public void UnmaskedOverflowIsBiasAdjusted()
    {
        var f = new X87Flags();
        Float80 max = F(0x7FFE, 0xC000000000000000);
        Float80 r = SoftFloat80.Mul(max, SoftFloat80.FromInt64(4), (ushort)(Masked & ~0x08), ref f);
        Assert.That(r, Is.EqualTo(F(0x8000 - 24576, 0xC000000000000000)));
        Assert.That(f.Raised, Is.EqualTo(X87Exception.Overflow));
    }

    [Test]
    public void ScaleStillOutOfRangeAfterAdjustmentIsInfinity()
    {
        var f = new X87Flags();
        Float80 r = SoftFloat80.Scale(F(0x8001, 0x8C3E880000000000), F(0x4031, 0xB7E1382B348DE000), 0x0F40, ref f);
        Assert.That(r, Is.EqualTo(F(0xFFFF, 0x8000000000000000)));
        Assert.That(f.Raised, Is.EqualTo(X87Exception.Overflow | X87Exception.Precision));
        Assert.That(f.RoundedUp, Is.True);
    }

    [Test]
    public void PartialRemainderClearsQuotientBits()
    {
        var f = new X87Flags();
        Float80 r = SoftFloat80.PartialRemainder(F(0xC01C, 0x922BF80A57F159E0), F(0x3FA3, 0x80000E100E080A40), false, 0x087F,
            ref f, out int q, out bool incomplete);
        Assert.That(r, Is.EqualTo(F(0xBFE1, 0xC9FC4EC268157500)));
        Assert.That((q, incomplete), Is.EqualTo((0, true)));
    }

    [Test]
    public void ConstantsFollowRoundingControl()
    {
        Assert.That(SoftFloat80.Constant(X87Constant.Pi, Masked), Is.EqualTo(F(0x4000, 0xC90FDAA22168C235)));
        Assert.That(SoftFloat80.Constant(X87Constant.Pi, 0x077F), Is.EqualTo(F(0x4000, 0xC90FDAA22168C234)));
        Assert.That(SoftFloat80.Constant(X87Constant.Log2Ten, 0x0B7F), Is.EqualTo(F(0x4000, 0xD49A784BCD1B8AFF)));
        Assert.That(SoftFloat80.Constant(X87Constant.Log2Ten, Masked), Is.EqualTo(F(0x4000, 0xD49A784BCD1B8AFE)));
    }

    [Test]
    public void SineReducesWithTheX87Pi()
    {
        // The host's FSIN of 0x4031:9B2F0023724A039F (about 8.5e14); the true sine differs by ~5.7e13 ulps.
        var f = new X87Flags();
        Float80 r = SoftFloat80.Sin(F(0x4031, 0x9B2F0023724A039F), 0x047F, ref f, out bool c2);
        Assert.That(c2, Is.False);
        Assert.That(Math.Abs((long)(r.Significand - 0xF92280392F2A7F13)), Is.LessThanOrEqualTo(X87Ops.TranscendentalUlps));
        Assert.That(r.SignExponent, Is.EqualTo((ushort)0xBFFD));
        Assert.That(SoftFloat80.Sin(F(0x403E, 0x8000000000000000), Masked, ref f, out c2), Is.EqualTo(F(0x403E, 0x8000000000000000)));
        Assert.That(c2, Is.True, "|x| >= 2^63 is out of range");
    }

    [Test]
    public void StoresAndIntegersUseTheIndefinites()
    {
        var f = new X87Flags();
        Assert.That(SoftFloat80.ToInt(Float80.PositiveInfinity, 16, false, Masked, ref f), Is.EqualTo(short.MinValue));
        Assert.That(f.Raised, Is.EqualTo(X87Exception.Invalid));
        Span<byte> bcd = stackalloc byte[10];
        SoftFloat80.ToBcd(SoftFloat80.FromInt64(1_000_000_000_000_000_000), Masked, ref f, bcd);
        Assert.That(Convert.ToHexString(bcd), Is.EqualTo("00000000000000C0FFFF"));
        Assert.That(SoftFloat80.ToSingle(F(0x7FFF, 0x8000000000000001), Masked, ref f), Is.EqualTo(0x7FC00000u));
    }
}
