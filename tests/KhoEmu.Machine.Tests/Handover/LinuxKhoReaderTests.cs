using KhoEmu.Machine.Handover;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Handover;

/// <summary>The kho-v4 / luo-v5 / memfd-v2 readers against hand-built handovers, well-formed and broken.</summary>
public sealed class LinuxKhoReaderTests
{
    [Test]
    public void ReadsScratchMapSubtreesAndLuo()
    {
        using var img = new KhoV4Image();
        var h = LinuxKhoReader.Read(img.Memory, KhoV4Image.BootParams, KhoV4Image.Entry);
        Assert.That(h.Problems, Is.Empty);
        Assert.That(h.Format, Is.EqualTo("kho-v4"));
        Assert.That(h.MapRoot, Is.EqualTo(img.Root));
        Assert.That(h.KernelImage, Is.EqualTo(new KhoRange(0x300_0000, 0x40_0000)));
        Assert.That(h.Scratch, Is.EqualTo(new[] { new KhoRange(KhoV4Image.ScratchA, KhoV4Image.ScratchASize), new KhoRange(KhoV4Image.ScratchB, KhoV4Image.ScratchBSize) }));
        var expected = new[] { KhoV4Image.Fdt, KhoV4Image.LuoSer, KhoV4Image.Sessions, KhoV4Image.Files, KhoV4Image.MemfdSer, KhoV4Image.Chunk,
            KhoV4Image.FolioArray, KhoV4Image.Data0, KhoV4Image.Data1 }.Select(p => new KhoBlock(p, 0)).Append(new KhoBlock(KhoV4Image.Big, 9));
        Assert.That(h.Blocks, Is.EquivalentTo(expected));
        Assert.That(h.PreservedPages, Is.EqualTo(9 + 512));
        Assert.That(h.MapPages, Is.EquivalentTo(img.Nodes));
        Assert.That(h.Subtrees.Single(), Is.EqualTo(new KhoSubtree("LUO", KhoV4Image.LuoSer, 32, "luo-v5")));
        Assert.That(h.LiveUpdateNumber, Is.EqualTo(3));
        var file = h.Sessions.Single(s => s.Name == "s1").Files.Single();
        Assert.That((file.Compatible, file.Token, file.Size), Is.EqualTo(("memfd-v2", KhoV4Image.Token, (ulong?)8192)));
        Assert.That(file.DataPages, Is.EqualTo(new[] { KhoV4Image.Data0 >> 12, KhoV4Image.Data1 >> 12 }));
        Assert.That(h.OwnerOf(KhoV4Image.Data1 >> 12), Is.EqualTo("memfd token 7 of session 's1', file page 1"));
        Assert.That(h.OwnerOf(KhoV4Image.Fdt >> 12), Is.EqualTo("KHO root FDT"));
        Assert.That(h.OwnerOf(KhoV4Image.Big >> 12), Is.Null);
    }

    [Test]
    public void NoKhoSetupDataIsNotAHandover()
    {
        using var img = new KhoV4Image();
        img.WriteU64s(KhoV4Image.SetupData + 8, 9);                                  // type 9 (SETUP_CC_BLOB), not 10
        Assert.That(LinuxKhoReader.FindKhoData(new GuestView(img.Memory), KhoV4Image.BootParams), Is.Zero);
        Assert.That(LinuxKhoReader.FindKhoData(new GuestView(img.Memory), 0x3000), Is.Zero);   // no "HdrS"
    }

    [Test]
    public void TruncatedFdtIsAProblem()
    {
        using var img = new KhoV4Image();
        img.WriteFdt(img.Root, totalSizeOverride: 8192);                              // claims more than fdt_size
        var h = LinuxKhoReader.Read(img.Memory, KhoV4Image.BootParams, KhoV4Image.Entry);
        Assert.That(h.Problems.Single(), Does.Contain("root FDT").And.Contain("truncated"));
        Assert.That(h.Blocks, Is.Empty);
    }

    [Test]
    public void MapPointerOutsideRamIsAProblem()
    {
        using var img = new KhoV4Image();
        img.WriteFdt(0x7_0000_0000);
        var h = LinuxKhoReader.Read(img.Memory, KhoV4Image.BootParams, KhoV4Image.Entry);
        Assert.That(h.Problems, Has.Some.Contains("map node 0x700000000 (level 5) is outside RAM"));
        Assert.That(h.Blocks, Is.Empty);
        Assert.That(h.Sessions.Single().Files.Single().Token, Is.EqualTo(KhoV4Image.Token));   // the rest is still read
    }

    [Test]
    public void LoopInTheTreeEndsTheWalk()
    {
        using var img = new KhoV4Image();
        img.WriteU64s(img.Root + 8 * 500, img.Root);                                  // a level-5 entry back to the root
        var h = LinuxKhoReader.Read(img.Memory, KhoV4Image.BootParams, KhoV4Image.Entry);
        Assert.That(h.Problems, Has.Some.Contains("reached twice"));
        Assert.That(h.Blocks, Has.Count.EqualTo(10));
    }

    [Test]
    public void LoopInSessionBlocksAndVmallocChunksIsAProblem()
    {
        using var img = new KhoV4Image();
        img.WriteU64s(KhoV4Image.Sessions, KhoV4Image.Sessions);                      // block.next = itself
        img.WriteU64s(KhoV4Image.MemfdSer + 40, 2000);                                // claims 2000 pages of folio array
        img.WriteU64s(KhoV4Image.Chunk, [KhoV4Image.Chunk, .. Enumerable.Repeat(KhoV4Image.FolioArray, 511)]);   // full chunk, next = itself
        var h = LinuxKhoReader.Read(img.Memory, KhoV4Image.BootParams, KhoV4Image.Entry);
        Assert.That(h.Problems, Has.Some.Contains("LUO session list: block chain loops"));
        Assert.That(h.Problems, Has.Some.Contains("vmalloc chunk list loops"));
    }

    [Test]
    public void AbsurdCountsAreProblems()
    {
        using var img = new KhoV4Image();
        img.WriteU64s(KhoV4Image.Files + 8, 1_000_000);                               // file block count
        img.WriteU64s(KhoV4Image.SetupData + 40, 17);                                  // scratch_size not a multiple of 16
        var h = LinuxKhoReader.Read(img.Memory, KhoV4Image.BootParams, KhoV4Image.Entry);
        Assert.That(h.Problems, Has.Some.Contains("has count 1000000"));
        Assert.That(h.Problems, Has.Some.Contains("scratch array size 17"));
        Assert.That(h.Scratch, Is.Empty);
    }

    [Test]
    public void InjectionSpecs()
    {
        Assert.That(KhoInjection.Parse("flip=auto"), Is.EqualTo(new KhoInjection(null, 0)));
        Assert.That(KhoInjection.Parse("flip=0x501234,offset=8"), Is.EqualTo(new KhoInjection(0x501000, 8)));
        Assert.Throws<FormatException>(() => KhoInjection.Parse("flip=zz"));
        Assert.Throws<FormatException>(() => KhoInjection.Parse("offset=4096,flip=auto"));
        Assert.Throws<FormatException>(() => KhoInjection.Parse("swap=1"));
    }
}
