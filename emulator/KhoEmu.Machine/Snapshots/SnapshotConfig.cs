using System.IO.Hashing;
using System.Text;
using KhoEmu.Core.State;

namespace KhoEmu.Machine.Snapshots;

/// <summary>
/// The <c>config</c> section: everything a machine is built from (RAM size, firmware, kernel, initrd, command line,
/// fw_cfg files, CPU model and topology, RNG seed, RTC base, -no-reboot, intel-iommu properties), so that
/// <c>khoemu run --restore FILE</c> can build the same machine without the image options. Its XxHash64, minus the
/// fields a restore overrides anyway (the RTC base: the RTC's state is in its own section), is
/// <see cref="SnapshotMachine.ConfigHash"/>. Serial streams are not part of it.
/// </summary>
public static class SnapshotConfig
{
    public const string SectionName = "config";
    public const ushort Version = 1;

    public static SnapshotSection Save(MachineConfig c) => new(SectionName, Version, Encode(c, withRtc: true));

    /// <summary>The hash of the parts of <paramref name="c"/> that make two machines the same machine.</summary>
    public static ulong Hash(MachineConfig c) => XxHash64.HashToUInt64(Encode(c, withRtc: false));

    private static byte[] Encode(MachineConfig c, bool withRtc)
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            void Bytes(byte[]? b)
            {
                w.Write(b is null ? -1 : b.Length);
                if (b is not null) w.Write(b);
            }
            w.Write(c.MemorySize);
            Bytes(c.Firmware);
            Bytes(c.Kernel);
            w.Write(c.CommandLine);
            w.Write(c.KernelName);
            Bytes(c.Initrd);
            w.Write(c.InitrdName);
            w.Write(c.FwCfgFiles.Count);
            foreach (var (name, data) in c.FwCfgFiles)
            {
                w.Write(name);
                Bytes(data);
            }
            w.Write((c.CpuModel ?? KhoEmu.Cpu.CpuModels.Default).Name);
            w.Write(c.Smp.Sockets);
            w.Write(c.Smp.Cores);
            w.Write(c.Smp.Threads);
            w.Write(c.RngSeed);
            w.Write(c.NoReboot);
            w.Write(c.Iommu.InterruptRemapping);
            if (withRtc) w.Write(c.RtcBase.Ticks);
        }
        return ms.ToArray();
    }

    /// <summary>Rebuilds the configuration a snapshot was taken with (serial streams left at their defaults).</summary>
    public static MachineConfig Load(SnapshotSection section)
    {
        if (section.Version != Version)
            throw new SnapshotFormatException($"section {SectionName}: version {section.Version}; this khoemu reads version {Version}");
        try
        {
            using var r = new BinaryReader(new MemoryStream(section.Data), Encoding.UTF8);
            byte[]? Bytes()
            {
                int n = r.ReadInt32();
                if (n < -1 || n > r.BaseStream.Length - r.BaseStream.Position) throw new FormatException($"bad length {n}");
                return n < 0 ? null : r.ReadBytes(n);
            }
            var c = new MachineConfig { MemorySize = r.ReadUInt64(), Firmware = Bytes(), Kernel = Bytes(), CommandLine = r.ReadString(), KernelName = r.ReadString() };
            c.Initrd = Bytes();
            c.InitrdName = r.ReadString();
            int files = r.ReadInt32();
            if (files < 0 || files > 4096) throw new FormatException($"{files} fw_cfg files");
            for (int i = 0; i < files; i++) c.FwCfgFiles.Add((r.ReadString(), Bytes() ?? []));
            string cpu = r.ReadString();
            c.CpuModel = KhoEmu.Cpu.CpuModels.Find(cpu) ?? throw new FormatException($"unknown CPU model {cpu}");
            c.Smp = new KhoEmu.Cpu.Smp.CpuTopology(r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            if (c.Smp.Sockets < 1 || c.Smp.Cores < 1 || c.Smp.Threads < 1 || c.Smp.Count > KhoEmu.Cpu.Smp.CpuTopology.MaxCpus)
                throw new FormatException($"bad CPU topology {c.Smp}");
            c.RngSeed = r.ReadUInt64();
            c.NoReboot = r.ReadBoolean();
            c.Iommu = new KhoEmu.Devices.Iommu.IntelIommuOptions { InterruptRemapping = r.ReadBoolean() };
            c.RtcBase = new DateTime(r.ReadInt64(), DateTimeKind.Unspecified);
            if (r.BaseStream.Position != r.BaseStream.Length) throw new FormatException("bytes after its end");
            return c;
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or ArgumentException)
        {
            throw new SnapshotFormatException($"section {SectionName}: {e.Message}");
        }
    }

    /// <summary>
    /// The first way a configuration the user gave (<paramref name="given"/>) differs from the snapshot's, naming the
    /// option; null when they build the same machine.
    /// </summary>
    public static string? Difference(MachineConfig snapshot, MachineConfig given)
    {
        static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
        static string H(byte[]? b) => b is null ? "none" : $"{b.Length} bytes, xxh64 {XxHash64.HashToUInt64(b):x16}";
        if (snapshot.MemorySize != given.MemorySize) return $"-m: the snapshot has {snapshot.MemorySize >> 20} MiB, the options give {given.MemorySize >> 20} MiB";
        if (!Same(snapshot.Firmware, given.Firmware)) return $"firmware: the snapshot's is {H(snapshot.Firmware)}, the options give {H(given.Firmware)}";
        if (!Same(snapshot.Kernel, given.Kernel)) return $"-kernel: the snapshot's is {H(snapshot.Kernel)}, the options give {H(given.Kernel)}";
        if (!Same(snapshot.Initrd, given.Initrd)) return $"-initrd: the snapshot's is {H(snapshot.Initrd)}, the options give {H(given.Initrd)}";
        if (snapshot.CommandLine != given.CommandLine) return $"-append: the snapshot has \"{snapshot.CommandLine}\", the options give \"{given.CommandLine}\"";
        if (snapshot.FwCfgFiles.Count != given.FwCfgFiles.Count
            || snapshot.FwCfgFiles.Zip(given.FwCfgFiles).Any(p => p.First.Name != p.Second.Name || !Same(p.First.Data, p.Second.Data)))
            return $"-fw_cfg: the snapshot has {string.Join(',', snapshot.FwCfgFiles.Select(f => f.Name))}, the options give {string.Join(',', given.FwCfgFiles.Select(f => f.Name))}";
        if ((snapshot.CpuModel ?? KhoEmu.Cpu.CpuModels.Default).Name != (given.CpuModel ?? KhoEmu.Cpu.CpuModels.Default).Name)
            return $"-cpu: the snapshot has {(snapshot.CpuModel ?? KhoEmu.Cpu.CpuModels.Default).Name}, the options give {(given.CpuModel ?? KhoEmu.Cpu.CpuModels.Default).Name}";
        if (snapshot.Smp != given.Smp) return $"-smp: the snapshot has {snapshot.Smp.Count} processors ({snapshot.Smp}), the options give {given.Smp.Count} ({given.Smp})";
        if (snapshot.RngSeed != given.RngSeed) return $"--rng-seed: the snapshot has {snapshot.RngSeed}, the options give {given.RngSeed}";
        if (snapshot.NoReboot != given.NoReboot) return "-no-reboot differs from the snapshot's";
        if (snapshot.Iommu.InterruptRemapping != given.Iommu.InterruptRemapping) return "-device intel-iommu,intremap differs from the snapshot's";
        return null;
    }
}
