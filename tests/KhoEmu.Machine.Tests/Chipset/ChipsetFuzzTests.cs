using KhoEmu.Machine.Board;
using KhoEmu.Devices.Timers;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Chipset;

/// <summary>Random traffic on every chipset port and the HPET, with time passing: the host must never throw.</summary>
[TestFixture, Parallelizable(ParallelScope.All)]
public sealed class ChipsetFuzzTests
{
    private static readonly (ushort Base, int Count)[] PortRanges =
        [(0x40, 4), (0x60, 1), (0x61, 1), (0x64, 1), (0x70, 2), (0xB2, 2), (0x600, 0x80), (0xCF8, 8)];

    [Test]
    public void RandomChipsetTrafficNeverThrows()
    {
        using var m = new PcMachine(new MachineConfig());
        var rng = new Random(20261201);
        m.Memory.Mmio.Write(Q35Layout.HpetBase + 0x10, 4, 1);   // a running HPET reaches its timers
        m.Ports.Write(0xB2, 1, 0x02);
        for (int i = 0; i < 100_000; i++)
        {
            int size = 1 << rng.Next(3);
            uint value = (uint)rng.NextInt64();
            switch (rng.Next(6))
            {
                case 0:
                case 1:
                    var (b, n) = PortRanges[rng.Next(PortRanges.Length)];
                    ushort port = (ushort)(b + rng.Next(n));
                    if (rng.Next(2) == 0) m.Ports.Write(port, size, value);
                    else m.Ports.Read(port, size);
                    break;
                case 2:
                    // CMOS: an index, then data (the time, alarm and status registers most of the time).
                    m.Ports.Write(0x70, 1, (uint)(rng.Next(4) == 0 ? rng.Next(256) : rng.Next(0x0E)));
                    if (rng.Next(2) == 0) m.Ports.Write(0x71, 1, value);
                    else m.Ports.Read(0x71, 1);
                    break;
                case 3:
                    int mmioSize = 1 << rng.Next(4);
                    ulong off = (ulong)rng.Next(0x400) & ~(ulong)(mmioSize - 1);
                    if (rng.Next(2) == 0) m.Memory.Mmio.Write(Q35Layout.HpetBase + off, mmioSize, (ulong)rng.NextInt64());
                    else m.Memory.Mmio.Read(Q35Layout.HpetBase + off, mmioSize);
                    break;
                case 4:
                    m.Clock.AdvanceTo(m.Clock.Now + (ulong)rng.Next(rng.Next(10) == 0 ? 20_000_000 : 100_000));
                    break;
                default:
                    m.IoApic.EndOfInterrupt(rng.Next(256));
                    break;
            }
        }
        // The machine still works: the HPET counts and the PIT channel 2 one-shot still reaches OUT2.
        m.Memory.Mmio.Write(Q35Layout.HpetBase + 0x10, 4, 1);
        ulong before = m.Memory.Mmio.Read(Q35Layout.HpetBase + 0xF0, 8);
        m.Clock.AdvanceTo(m.Clock.Now + 1_000);
        Assert.That(m.Memory.Mmio.Read(Q35Layout.HpetBase + 0xF0, 8) - before, Is.EqualTo(100UL));
        m.Ports.Write(0x61, 1, 1);
        m.Ports.Write(0x43, 1, 0xB0);
        m.Ports.Write(0x42, 1, 10);
        m.Ports.Write(0x42, 1, 0);
        m.Clock.AdvanceTo(m.Clock.Now + 10_000);
        Assert.That(m.Ports.Read(0x61, 1) & 0x20, Is.EqualTo(0x20u));
    }
}
