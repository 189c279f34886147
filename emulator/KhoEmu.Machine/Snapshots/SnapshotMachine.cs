namespace KhoEmu.Machine.Snapshots;

/// <summary>
/// The machine configuration a snapshot belongs to: RAM size, CPU model and topology, the board's devices by name,
/// and a hash of everything the machine was built from (images, command line, fw_cfg files; <see cref="SnapshotConfig"/>).
/// </summary>
public sealed record SnapshotMachine(ulong RamSize, string CpuModel, int Sockets, int Cores, int Threads, string[] Devices, ulong ConfigHash)
{
    /// <summary>The first difference between this machine (a snapshot's) and <paramref name="target"/>, or null.</summary>
    public string? Mismatch(SnapshotMachine target)
    {
        if (RamSize != target.RamSize) return $"taken with {RamSize >> 20} MiB of RAM, the machine has {target.RamSize >> 20} MiB";
        if (CpuModel != target.CpuModel) return $"taken on CPU model {CpuModel}, the machine has {target.CpuModel}";
        if ((Sockets, Cores, Threads) != (target.Sockets, target.Cores, target.Threads))
            return $"taken with -smp sockets={Sockets},cores={Cores},threads={Threads}, the machine has sockets={target.Sockets},cores={target.Cores},threads={target.Threads}";
        if (!Devices.SequenceEqual(target.Devices))
            return $"taken on a board with devices {string.Join(',', Devices)}, the machine has {string.Join(',', target.Devices)}";
        if (ConfigHash != target.ConfigHash)
            return $"taken on a machine built from other images or options (configuration hash {ConfigHash:x16}, the machine's {target.ConfigHash:x16})";
        return null;
    }

    public override string ToString() =>
        $"{RamSize >> 20} MiB RAM, CPU {CpuModel} x{Sockets * Cores * Threads} (sockets={Sockets},cores={Cores},threads={Threads}), "
        + $"configuration {ConfigHash:x16}, devices {string.Join(',', Devices)}";

    public bool Equals(SnapshotMachine? other) => other is not null && Mismatch(other) is null;
    public override int GetHashCode() => HashCode.Combine(RamSize, CpuModel, ConfigHash);
}
