using KhoEmu.Core.State;
using KhoEmu.Machine.Snapshots;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Snapshots;

/// <summary>The container format: a round trip keeps every byte, and every kind of damage is refused with its reason.</summary>
public sealed class SnapshotFileTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"khoemu-snap-{Guid.NewGuid():N}"));

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static SnapshotFile Sample()
    {
        var rng = new Random(7);
        var noise = new byte[5000];
        rng.NextBytes(noise);
        var zeros = new byte[100_000];
        zeros[12345] = 0x5A;
        var machine = new SnapshotMachine(512UL << 20, "Denverton", 1, 2, 1, ["uart-com1", "pit"], 0x1234_5678_9ABC_DEF0);
        return new SnapshotFile(new SnapshotHeader("khoemu", "instruction 1000", 1000, 2000, machine),
            [new("noise", 3, noise), new("zeros", 1, zeros), new("empty", 1, [])]);
    }

    private string Written(out long length)
    {
        string path = Path.Combine(_dir, "a.snap");
        length = Sample().Write(path);
        return path;
    }

    [Test]
    public void RoundTripKeepsHeaderAndSections()
    {
        string path = Written(out long length);
        Assert.That(new FileInfo(path).Length, Is.EqualTo(length));
        var original = Sample();
        var read = SnapshotFile.Read(path);
        Assert.That(read.Header, Is.EqualTo(original.Header));
        Assert.That(read.Sections.Select(s => (s.Name, s.Version)), Is.EqualTo(original.Sections.Select(s => (s.Name, s.Version))));
        for (int i = 0; i < original.Sections.Count; i++) Assert.That(read.Sections[i].Data, Is.EqualTo(original.Sections[i].Data));
        // Zeros compress; random bytes are stored as they are.
        Assert.That(read.Table.Single(e => e.Name == "zeros").Codec, Is.EqualTo(SnapshotCodec.Lz4));
        Assert.That(read.Table.Single(e => e.Name == "zeros").StoredLength, Is.LessThan(2000));
        Assert.That(read.Table.Single(e => e.Name == "noise").Codec, Is.EqualTo(SnapshotCodec.Stored));
        Assert.That(File.Exists(path + ".tmp"), Is.False);
    }

    private static string Refusal(byte[] bytes)
    {
        var e = Assert.Throws<SnapshotFormatException>(() => SnapshotFile.Read(new MemoryStream(bytes)))!;
        Assert.That(e.Message, Does.Not.Contain("\n"));
        return e.Message;
    }

    [Test]
    public void EveryBitFlipIsRefused()
    {
        var good = File.ReadAllBytes(Written(out _));
        // Every byte position (one bit each, rotating), and every bit of the prefix.
        for (int i = 0; i < good.Length; i++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                if (i >= SnapshotFile.PrefixLength && bit != i % 8) continue;
                var bad = (byte[])good.Clone();
                bad[i] ^= (byte)(1 << bit);
                string why = Refusal(bad);
                string expected = i < 8 ? "bad magic" : i < 12 ? "format version" : i < 16 ? "header length|checksum" : i < 24 ? "truncated|after the snapshot" : "checksum";
                Assert.That(why, Does.Match(expected), $"byte {i} bit {bit}");
            }
        }
    }

    [Test]
    public void TruncationIsRefused()
    {
        var good = File.ReadAllBytes(Written(out _));
        foreach (int keep in new[] { 0, 7, 20, SnapshotFile.PrefixLength, 100, good.Length / 2, good.Length - 9, good.Length - 1 })
            Assert.That(Refusal(good[..keep]), Does.StartWith("truncated"), $"{keep} bytes");
        var longer = good.Concat(new byte[3]).ToArray();
        Assert.That(Refusal(longer), Does.Contain("after the snapshot's end"));
    }

    [Test]
    public void FutureFormatVersionIsRefused()
    {
        var bad = File.ReadAllBytes(Written(out _));
        bad[8] = 2;
        Assert.That(Refusal(bad), Is.EqualTo("snapshot format version 2; this khoemu reads version 1"));
    }

    [Test]
    public void WrongMagicIsRefused()
    {
        var bad = File.ReadAllBytes(Written(out _));
        "QEVM"u8.CopyTo(bad);
        Assert.That(Refusal(bad), Is.EqualTo("not a KhoEmu snapshot (bad magic)"));
        Assert.That(Refusal("hello, world: not a snapshot at all"u8.ToArray()), Is.EqualTo("not a KhoEmu snapshot (bad magic)"));
    }

    [Test]
    public void MissingFileIsOneLine()
    {
        var e = Assert.Throws<SnapshotFormatException>(() => SnapshotFile.Read(Path.Combine(_dir, "absent.snap")))!;
        Assert.That(e.Message, Does.Contain("cannot read"));
    }

    [Test]
    public void MachineMismatchNamesTheDifference()
    {
        var a = new SnapshotMachine(512UL << 20, "Denverton", 1, 1, 1, ["x"], 1);
        Assert.That(a.Mismatch(a with { }), Is.Null);
        Assert.That(a.Mismatch(a with { RamSize = 1UL << 30 }), Does.Contain("512 MiB of RAM, the machine has 1024 MiB"));
        Assert.That(a.Mismatch(a with { CpuModel = "qemu64" }), Does.Contain("CPU model Denverton"));
        Assert.That(a.Mismatch(a with { Cores = 2 }), Does.Contain("-smp"));
        Assert.That(a.Mismatch(a with { Devices = ["y"] }), Does.Contain("devices x"));
        Assert.That(a.Mismatch(a with { ConfigHash = 2 }), Does.Contain("other images or options"));
    }
}
