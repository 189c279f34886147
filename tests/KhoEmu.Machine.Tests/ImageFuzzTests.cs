using System.Buffers.Binary;
using KhoEmu.Elf;
using KhoEmu.Machine.Boot;
using KhoEmu.Machine.Tests.Boot;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests;

/// <summary>
/// Random mutations (byte and field overwrites, truncations) of valid kernel images given to the machine: the
/// image is either refused with a <see cref="BootException"/> or boots and runs for a small instruction budget to one
/// of the machine's exits; no other exception ever reaches the host. The default run is short; KHOEMU_FUZZ_SCALE=N
/// runs N times as many images.
/// </summary>
[Category("Fuzz")]
public sealed class ImageFuzzTests
{
    private static int Scale => int.TryParse(Environment.GetEnvironmentVariable("KHOEMU_FUZZ_SCALE"), out int s) && s > 0 ? s : 1;

    public enum Kind { PvhElf, MultibootAout, MultibootElf, BzImage }

    [TestCase(Kind.PvhElf, 20261201)]
    [TestCase(Kind.MultibootAout, 20261202)]
    [TestCase(Kind.MultibootElf, 20261203)]
    [TestCase(Kind.BzImage, 20261204)]
    public void MutatedImagesAreRefusedOrRunNeverThrow(Kind kind, int seed)
    {
        var rng = new Random(seed);
        byte[] original = Build(kind);
        // The unmutated image boots: the mutations start from something the loader accepts.
        using (var m = new PcMachine(new MachineConfig { Kernel = original, MemorySize = 64UL << 20, SerialOutput = Stream.Null }))
            m.Run(1000);
        int images = 200 * Scale, refused = 0, ran = 0;
        var thrown = new List<string>();
        for (int i = 0; i < images; i++)
        {
            byte[] image = Mutate(original, rng);
            try
            {
                using var m = new PcMachine(new MachineConfig { Kernel = image, MemorySize = 64UL << 20, SerialOutput = Stream.Null });
                m.Run(2000);
                ran++;
            }
            catch (BootException e)
            {
                Assert.That(e.Message, Is.Not.Empty.And.Not.Contain("\n"), "a refusal is one line");
                refused++;
            }
            catch (Exception e)
            {
                thrown.Add($"image {i}: {e.GetType().Name}: {e.Message} {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}");
            }
        }
        TestContext.Out.WriteLine($"{kind}: {images} images, {refused} refused, {ran} ran, {thrown.Count} threw");
        foreach (var t in thrown.Take(20)) TestContext.Out.WriteLine("  " + t);
        Assert.That(thrown, Is.Empty, string.Join("\n", thrown.Take(5)));
        Assert.That(refused, Is.GreaterThan(0), "some mutations hit what the loader checks");
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        var image = (byte[])original.Clone();
        // Most edits go to the headers (the first 1 KiB), where the loaders' arithmetic lives.
        int Where(int width) => Math.Max(0, rng.Next(2) == 0 ? rng.Next(Math.Min(1024, image.Length) - width) : rng.Next(image.Length - width));
        int edits = 1 + rng.Next(6);
        for (int e = 0; e < edits; e++)
        {
            switch (rng.Next(5))
            {
                case 0: image[Where(1)] ^= (byte)(1 << rng.Next(8)); break;
                case 1: image[Where(1)] = (byte)rng.Next(256); break;
                case 2: BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(Where(4) & ~3), Interesting32(rng)); break;
                case 3: BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(Where(8) & ~7), Interesting64(rng)); break;
                case 4: BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(Where(2) & ~1), (ushort)Interesting32(rng)); break;
            }
        }
        if (rng.Next(4) == 0) image = image[..rng.Next(image.Length + 1)];
        return image;
    }

    private static uint Interesting32(Random rng) => rng.Next(6) switch
    {
        0 => 0, 1 => 0xFFFF_FFFF, 2 => 0x8000_0000, 3 => (uint)rng.Next(0x10000), 4 => 0x7FFF_FFFF, _ => (uint)rng.NextInt64(1L << 32),
    };

    private static ulong Interesting64(Random rng) => rng.Next(5) switch
    {
        0 => 0, 1 => ulong.MaxValue, 2 => 0x8000_0000_0000_0000, 3 => (ulong)rng.Next(0x100000), _ => (ulong)rng.NextInt64(),
    };

    // hlt; jmp $-1: a kernel that stops.
    private static readonly byte[] Halt = [0xF4, 0xEB, 0xFD];

    private static byte[] Build(Kind kind)
    {
        switch (kind)
        {
            case Kind.PvhElf:
            {
                var w = new ElfWriter(ElfWriter.FileKind.Executable) { Entry = 0x100000 };
                w.AddNote("Xen", DirectBoot.PvhNoteType, BitConverter.GetBytes(0x100000u));
                w.AddSegment(0x100000, 0x100000, Pad(Halt, 256), 0x2000, 5);
                w.AddSegment(0x200000, 0x200000, new byte[64], 0x1000, 6);
                return w.Build();
            }
            case Kind.MultibootElf:
            {
                var w = new ElfWriter(ElfWriter.FileKind.Executable) { Entry = 0x100010 };
                var code = new byte[256];
                MultibootHeader(0).CopyTo(code, 0);
                Halt.CopyTo(code, 16);
                w.AddSegment(0x100000, 0x100000, code, 0x2000, 5);
                return w.Build();
            }
            case Kind.MultibootAout:
            {
                // a.out kludge: header at file offset 0 = load address 0x100000, entry just after the header.
                var image = new byte[4096];
                MultibootHeader(0x10000).CopyTo(image, 0);
                var h = image.AsSpan();
                BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0x100000);  // header_addr
                BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 0x100000);  // load_addr
                BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 0x101000);  // load_end_addr
                BinaryPrimitives.WriteUInt32LittleEndian(h[24..], 0x104000);  // bss_end_addr
                BinaryPrimitives.WriteUInt32LittleEndian(h[28..], 0x100020);  // entry_addr
                Halt.CopyTo(image, 0x20);
                return image;
            }
            default:
                return SyntheticBzImage.Build();
        }
    }

    private static byte[] MultibootHeader(uint flags)
    {
        var h = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(h, DirectBoot.MultibootMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), unchecked(0u - DirectBoot.MultibootMagic - flags));
        return h;
    }

    private static byte[] Pad(byte[] b, int n) { var r = new byte[n]; b.CopyTo(r, 0); return r; }
}
