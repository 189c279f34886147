using KhoEmu.Machine.Handover;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Handover;

/// <summary>
/// The oracle's Linux checks on a hand-built kho-v4 handover, driven through guest-physical accesses (the CPU's slow
/// path, which the page watch forces for watched pages).
/// </summary>
public sealed class LinuxOracleTests
{
    private static (KhoV4Image Img, KhoOracle Oracle) Jump(KhoInjection? inject = null)
    {
        var img = new KhoV4Image();
        var o = new KhoOracle(img.Memory, () => 0, () => { }) { Inject = inject };
        o.NoteLinuxEntry(KhoV4Image.BootParams, KhoV4Image.Entry);
        Assert.That(o.Handovers, Is.EqualTo(1));
        Assert.That(o.PreservedBlocks, Is.EqualTo(10));
        Assert.That(o.PreservedBytes, Is.EqualTo((9 + 512) * 4096));
        Assert.That(o.HandoverProblem, Is.Null);
        return (img, o);
    }

    [Test]
    public void CleanBootHasNoViolations()
    {
        var (img, o) = Jump();
        using (img)
        {
            img.Memory.WritePhys(KhoV4Image.ScratchA + 0x10, 8, 1);                    // scratch: allowed
            img.Memory.WritePhys(KhoV4Image.Entry + 0x1000, 8, 1);                     // the kernel image: allowed
            Assert.That(img.Memory.ReadPhys(KhoV4Image.Fdt, 4), Is.EqualTo(0xEDFE0DD0));   // kho_populate reads the FDT
            Assert.That(img.Memory.Watch.IsWriteWatched(0x600), Is.True);
            img.Memory.ReadPhys(img.Root, 8);                                           // the map is read
            Assert.That(img.Memory.Watch.IsWriteWatched(0x600), Is.False);
            img.Memory.WritePhys(0x60_0000, 8, 1);                                      // after the map: anywhere free
            img.Memory.ReadPhys(KhoV4Image.Data0, 8);                                   // restored data, unchanged
            img.Memory.WritePhys(KhoV4Image.Data1, 8, 5);                               // written after its first touch
            o.Finish();
            Assert.That(o.Violations, Is.Empty);
            Assert.That(o.TouchedPages, Is.EqualTo(3));
        }
    }

    [Test]
    public void EarlyWritesOutsideScratchAndToPreservedPagesAreViolations()
    {
        var (img, o) = Jump();
        using (img)
        {
            img.Memory.WritePhys(0x60_0008, 8, 1);                                      // not scratch, map not read
            img.Memory.WritePhys(0x60_0010, 8, 1);                                      // same page: reported once
            img.Memory.WritePhys(KhoV4Image.Data0 + 8, 4, 1);                           // a preserved page
            img.Memory.ReadPhys(img.Root, 8);
            img.Memory.WritePhys(0x70_0000, 8, 1);                                      // after the map: fine
            Assert.That(o.Violations, Has.Count.EqualTo(2));
            Assert.That(o.Violations[0], Does.Contain("early-boot write to 0x600008 outside the KHO scratch areas"));
            Assert.That(o.Violations[1], Does.Contain("write to preserved page 0x500008 (memfd token 7 of session 's1', file page 0)")
                .And.Contain("before the new kernel read the preserved-memory map"));
        }
    }

    [Test]
    public void InjectedFlipIsNamedWithItsOwner()
    {
        var (img, o) = Jump(KhoInjection.Parse("flip=auto"));
        using (img)
        {
            var j = o.Jumps.Single();
            Assert.That(j.InjectedAt, Is.EqualTo(KhoV4Image.Data0));
            Assert.That(j.InjectedOwner, Is.EqualTo("memfd token 7 of session 's1', file page 0"));
            img.Memory.ReadPhys(img.Root, 8);
            img.Memory.ReadPhys(KhoV4Image.Data0, 1);                           // the new kernel reads the file
            Assert.That(o.Violations.Single(), Does.Contain("preserved page 0x500000 (memfd token 7 of session 's1', file page 0) changed")
                .And.Contain("first read").And.Contain("--kho-inject"));
        }
    }

    [Test]
    public void DamageToAnUntouchedPageIsFoundAtTheEnd()
    {
        var (img, o) = Jump();
        using (img)
        {
            img.Memory.Write(KhoV4Image.Big + 0x1000, new byte[] { 0x5A });            // not through the CPU (unwatched path)
            o.Finish();
            Assert.That(o.Violations.Single(), Does.Contain($"preserved page 0x{KhoV4Image.Big + 0x1000:x}").And.Contain("never touched"));
            Assert.That(o.UntouchedAtFinish, Is.EqualTo(9 + 512));
        }
    }

    [Test]
    public void MalformedHandoverIsReportedNotThrown()
    {
        var img = new KhoV4Image();
        using (img)
        {
            img.WriteFdt(0x7_0000_0000);
            var o = new KhoOracle(img.Memory, () => 0, () => { });
            o.NoteLinuxEntry(KhoV4Image.BootParams, KhoV4Image.Entry);
            Assert.That(o.HandoverProblem, Does.Contain("outside RAM"));
            Assert.That(o.PreservedBlocks, Is.Zero);
            img.Memory.WritePhys(0x60_0000, 8, 1);                                      // still watching early writes
            Assert.That(o.Violations, Is.Empty, "with no map there is nothing the new kernel must wait for");
        }
    }
}
