using System.Buffers.Binary;
using KhoEmu.Devices.Iommu;
using KhoEmu.Machine.Board;

namespace KhoEmu.Machine.Tests;

/// <summary>
/// Drives the VT-d unit, the edu device and guest memory from the host as a guest driver would: registers, the
/// invalidation queue, the interrupt-remapping table and edu's MSI capability.
/// </summary>
internal static class VtdHost
{
    public const ulong Root = 0x10_0000, Context = 0x10_1000, Pml4 = 0x10_2000, Pdpt = 0x10_3000, Pd = 0x10_4000, Pt = 0x10_5000;
    public const ulong Iova = 0x0800_0000, RamA = 0x20_0000, RamB = 0x20_1000;
    public const ulong Queue = 0x30_0000, Status = 0x31_0000, Irt = 0x40_0000;
    public const ulong EduBar = 0xC000_0000;
    public const ushort EduSid = 1 << 3, Domain = 1;

    public static PcMachine NewMachine(bool interruptRemapping) =>
        new(new MachineConfig { Iommu = new IntelIommuOptions { InterruptRemapping = interruptRemapping } });

    public static ulong Reg(PcMachine m, ulong offset, int size = 8) => m.Memory.Mmio.Read(Q35Layout.VtdBase + offset, size);
    public static void SetReg(PcMachine m, ulong offset, ulong value, int size = 8) => m.Memory.Mmio.Write(Q35Layout.VtdBase + offset, size, value);

    public static void W64(PcMachine m, ulong pa, ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        m.Memory.Write(pa, b);
    }

    public static uint R32(PcMachine m, ulong pa)
    {
        var b = new byte[4];
        m.Memory.Read(pa, b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public static void SetConfig(PcMachine m, int dev, int reg, uint value)
    {
        m.Ports.Write(0xCF8, 4, 0x8000_0000u | (uint)(dev << 11) | (uint)reg);
        m.Ports.Write(0xCFC, 4, value);
    }

    /// <summary>Sets a persistent GCMD bit the way drivers do (GSTS with one bit changed) and returns GSTS.</summary>
    public static uint Command(PcMachine m, uint bit, bool on = true)
    {
        uint persistent = (uint)Reg(m, 0x1C, 4) & (IntelIommu.GcmdTe | IntelIommu.GcmdQie | IntelIommu.GcmdIre | IntelIommu.GcmdCfi);
        SetReg(m, 0x18, on ? persistent | bit : persistent & ~bit, 4);
        return (uint)Reg(m, 0x1C, 4);
    }

    /// <summary>Edu with memory and bus mastering on; one-level-per-page 4-level tables mapping IOVA → A (RW), translation on.</summary>
    public static void TranslateEdu(PcMachine m)
    {
        SetConfig(m, 1, 0x10, (uint)EduBar);
        SetConfig(m, 1, 0x04, 0x6);
        W64(m, Context + EduSid * 16, Pml4 | 1);
        W64(m, Context + EduSid * 16 + 8, 2 | ((ulong)Domain << 8));
        W64(m, Root, Context | 1);
        W64(m, Pml4, Pdpt | 3);
        W64(m, Pdpt + ((Iova >> 30) & 511) * 8, Pd | 3);
        W64(m, Pd + ((Iova >> 21) & 511) * 8, Pt | 3);
        W64(m, Pt, RamA | 3);
        SetReg(m, 0x20, Root);
        SetReg(m, 0x18, IntelIommu.GcmdSrtp, 4);
        Command(m, IntelIommu.GcmdTe);
    }

    /// <summary>A 256-entry queue at <see cref="Queue"/>, tail 0, queued invalidation on.</summary>
    public static void EnableQueue(PcMachine m)
    {
        SetReg(m, 0x88, 0);
        SetReg(m, 0x90, Queue | 0);
        Command(m, IntelIommu.GcmdQie);
    }

    /// <summary>Writes descriptors at the queue's current tail and moves the tail past them.</summary>
    public static void Submit(PcMachine m, params Descriptor[] descriptors)
    {
        ulong tail = Reg(m, 0x88) >> 4;
        foreach (var (lo, hi) in descriptors)
        {
            W64(m, Queue + tail * 16, lo);
            W64(m, Queue + tail * 16 + 8, hi);
            tail = (tail + 1) % 256;
        }
        SetReg(m, 0x88, tail << 4);
    }

    /// <summary>One 128-bit invalidation descriptor.</summary>
    public readonly record struct Descriptor(ulong Lo, ulong Hi);

    public static Descriptor D(ulong lo, ulong hi = 0) => new(lo, hi);

    public static Descriptor Wait(uint data, ulong address, bool statusWrite = true, bool interrupt = false) =>
        new(5UL | (interrupt ? 0x10UL : 0) | (statusWrite ? 0x20UL : 0) | 0x40 | ((ulong)data << 32), address);

    /// <summary>IRTE (VT-d 9.10) in xAPIC mode: present, fixed, physical destination 0, vector, SID check (SVT 1, SQ 0).</summary>
    public static void Irte(PcMachine m, int index, byte vector, ushort sid, bool level = false, bool present = true, bool fpd = false, byte destination = 0)
    {
        ulong lo = (present ? 1UL : 0) | (fpd ? 2UL : 0) | (level ? 0x10UL : 0) | ((ulong)vector << 16) | ((ulong)destination << 40);
        W64(m, Irt + (ulong)index * 16, lo);
        W64(m, Irt + (ulong)index * 16 + 8, sid | (1UL << 18));
    }

    /// <summary>A 256-entry table at <see cref="Irt"/> (IRTA.S = 7), queued invalidation on, the table pointer set and
    /// remapping on, with the interrupt entry cache invalidated as the specification asks after SIRTP.</summary>
    public static void EnableRemapping(PcMachine m)
    {
        EnableQueue(m);
        SetReg(m, 0xB8, Irt | 7);
        SetReg(m, 0x18, Reg(m, 0x1C, 4) | IntelIommu.GcmdSirtp, 4);
        Submit(m, D(4), Wait(1, Status));
        Command(m, IntelIommu.GcmdIre);
    }

    /// <summary>Edu's MSI capability (at 0x40): address, data, enable; memory decoding and bus mastering on.</summary>
    public static void EduMsi(PcMachine m, uint address, uint data)
    {
        SetConfig(m, 1, 0x10, (uint)EduBar);
        SetConfig(m, 1, 0x04, 0x6);
        SetConfig(m, 1, 0x44, address);
        SetConfig(m, 1, 0x48, 0);
        SetConfig(m, 1, 0x4C, data);
        SetConfig(m, 1, 0x40, 0x0005 | (1u << 16));
        m.Memory.Mmio.Write(0xFEE0_00F0, 4, 0x1FF);                  // local APIC software enable
    }

    /// <summary>A remappable-format MSI address for <paramref name="handle"/> (5.1.2.2), with or without SHV.</summary>
    public static uint RemappableAddress(int handle, bool subhandleValid) =>
        0xFEE0_0000u | (uint)(handle & 0x7FFF) << 5 | 0x10u | (subhandleValid ? 8u : 0) | (uint)((handle >> 15) & 1) << 2;

    /// <summary>Acknowledges the highest pending interrupt at the local APIC and EOIs it; -1 when none.</summary>
    public static int TakeInterrupt(PcMachine m)
    {
        int v = m.Apic.Acknowledge();
        if (v >= 0) m.Memory.Mmio.Write(0xFEE0_00B0, 4, 0);
        return v;
    }

    public static void RaiseEdu(PcMachine m) => m.Memory.Mmio.Write(EduBar + 0x60, 4, 0x1);

    /// <summary>The fault record: (fault info, high qword); and clears it.</summary>
    public static (ulong Info, ulong High) TakeFault(PcMachine m)
    {
        var r = (Reg(m, IntelIommu.FaultRecordOffset), Reg(m, IntelIommu.FaultRecordOffset + 8));
        SetReg(m, IntelIommu.FaultRecordOffset + 12, 0x8000_0000, 4);
        return r;
    }
}
