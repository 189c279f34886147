using System.Text;
using KhoEmu.Guest.Shared;
using NUnit.Framework;

namespace KhoEmu.Guest.Tests;

/// <summary>The shared FDT reader and writer, cross-checked against dtc (device-tree-compiler).</summary>
public sealed unsafe class FdtTests
{
    private static byte[] BuildSample()
    {
        var buf = new byte[4096];
        fixed (byte* p = buf)
        {
            var w = FdtWriter.Create(p, buf.Length);
            w.BeginNode("");
            w.PropertyString("compatible", "kho-v1");
            w.PropertyU64("preserved-memory-map", 0x0000_0001_2345_6000);
            w.BeginNode("LUO");
            w.PropertyU64("fdt", 0x7F00_1000);
            w.PropertyString("compatible", "luo-v1");
            w.EndNode();
            w.BeginNode("memfd");
            w.PropertyCell("count", 3);
            w.PropertyEmpty("frozen");
            w.EndNode();
            w.EndNode();
            int total = w.Finish();
            Assert.That(total, Is.GreaterThan(0), Fdt.ErrorText(total));
            return buf[..total];
        }
    }

    private static string? Dtc(string inFormat, string outFormat, byte[] input)
    {
        if (!HostTool.Exists("dtc")) return null;
        var r = HostTool.Run("dtc", ["-q", "-I", inFormat, "-O", outFormat, "-"], Path.GetTempPath(), TimeSpan.FromSeconds(30), input);
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        return inFormat == "dts" ? Convert.ToBase64String(r.Stdout) : r.Text;
    }

    [Test]
    public void WrittenTreeReadsBack()
    {
        var blob = BuildSample();
        fixed (byte* p = blob)
        {
            Assert.That(FdtReader.Open(p, (ulong)blob.Length, out var r), Is.EqualTo(Fdt.Ok));
            Assert.That(r.StringEquals(0, "compatible", "kho-v1"));
            Assert.That(r.GetU64(0, "preserved-memory-map", out ulong map) && map == 0x0000_0001_2345_6000);
            int luo = r.FindChild(0, "LUO");
            Assert.That(luo, Is.GreaterThan(0));
            Assert.That(r.GetU64(luo, "fdt", out ulong fdt) && fdt == 0x7F00_1000);
            int memfd = r.NextSibling(luo);
            Assert.That(r.NodeNameEquals(memfd, "memfd"));
            Assert.That(r.GetProperty(memfd, "frozen", out _, out int len) && len == 0);
            Assert.That(r.NextSibling(memfd), Is.EqualTo(-1));
            Assert.That(r.FindChild(0, "absent"), Is.EqualTo(-1));
        }
    }

    [Test]
    public void DtcDecompilesWhatTheWriterWrote()
    {
        string? dts = Dtc("dtb", "dts", BuildSample());
        if (dts is null) Assert.Inconclusive("dtc is not installed (.ci/run installs device-tree-compiler)");
        Assert.That(dts, Does.Contain("compatible = \"kho-v1\";"));
        Assert.That(dts, Does.Contain("LUO {"));
        Assert.That(dts, Does.Contain("compatible = \"luo-v1\";"));
        Assert.That(dts, Does.Contain("count = <0x03>;"));
        Assert.That(dts, Does.Contain("frozen;"));
        // u64 properties are native-endian bytes: 0x7F001000 little-endian is 00 10 00 7f 00 00 00 00.
        Assert.That(dts, Does.Contain("fdt = <0x10007f 0x00>;"));
        Assert.That(dts, Does.Contain("preserved-memory-map = <0x604523 0x1000000>;"));
    }

    [Test]
    public void ReaderParsesWhatDtcCompiled()
    {
        const string source = "/dts-v1/;\n/ {\n  compatible = \"luo-v1\";\n  liveupdate-number = /bits/ 64 <0x0200000000000000>;\n"
            + "  luo-session { compatible = \"luo-session-v2\"; session-name = \"state\"; };\n  empty-node { };\n};\n";
        string? b64 = Dtc("dts", "dtb", Encoding.ASCII.GetBytes(source));
        if (b64 is null) Assert.Inconclusive("dtc is not installed");
        var blob = Convert.FromBase64String(b64);
        fixed (byte* p = blob)
        {
            Assert.That(FdtReader.Open(p, (ulong)blob.Length, out var r), Is.EqualTo(Fdt.Ok));
            Assert.That(r.StringEquals(0, "compatible", "luo-v1"));
            // dtc stores cells big-endian: 0x0200000000000000 becomes bytes 02 00 .. 00, read natively as 2.
            Assert.That(r.GetU64(0, "liveupdate-number", out ulong n) && n == 2);
            int session = r.FindChild(0, "luo-session");
            Assert.That(r.StringEquals(session, "compatible", "luo-session-v2"));
            Assert.That(r.FindChild(0, "empty-node"), Is.GreaterThan(session));
        }
    }

    [Test]
    public void CorruptedBlobsAreRefusedWithAReason()
    {
        var good = BuildSample();
        var rng = new Random(1234);
        int refused = 0;
        for (int i = 0; i < 2000; i++)
        {
            var bad = (byte[])good.Clone();
            int flips = 1 + rng.Next(4);
            for (int f = 0; f < flips; f++) bad[rng.Next(bad.Length)] ^= (byte)(1 << rng.Next(8));
            int cut = rng.Next(4) == 0 ? rng.Next(bad.Length) : bad.Length;
            fixed (byte* p = bad)
            {
                int e = FdtReader.Open(p, (ulong)cut, out var r);
                if (e != Fdt.Ok)
                {
                    refused++;
                    Assert.That(Fdt.ErrorText(e), Is.Not.EqualTo("unknown error"));
                    continue;
                }
                // Accepted blobs must be safe to walk completely.
                Walk(r, 0, 0);
            }
        }
        Assert.That(refused, Is.GreaterThan(500), "most random corruptions break the structure");
    }

    private static void Walk(FdtReader r, int node, int depth)
    {
        Assert.That(depth, Is.LessThan(FdtReader.MaxDepth + 1));
        for (int p = r.FirstProperty(node); p >= 0; p = r.NextProperty(p)) r.PropertyValue(p, out _);
        for (int c = r.FirstChild(node); c >= 0; c = r.NextSibling(c)) Walk(r, c, depth + 1);
    }

    [Test]
    public void WriterReportsAFullBuffer()
    {
        var buf = new byte[128];
        fixed (byte* p = buf)
        {
            var w = FdtWriter.Create(p, buf.Length);
            w.BeginNode("");
            for (int i = 0; i < 20; i++) w.PropertyU64("value", (ulong)i);
            w.EndNode();
            Assert.That(w.Finish(), Is.EqualTo(Fdt.ErrNoSpace));
        }
    }
}
