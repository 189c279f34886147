using KhoEmu.Core.State;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.DeviceState;

/// <summary>
/// Save a machine's device sections, load them into a freshly built machine of the same configuration, and compare
/// what the two do next. RAM and the CPUs are not device state: a test that needs RAM writes it on both machines.
/// </summary>
public static class StateRig
{
    public static MachineConfig Config() => new() { MemorySize = 64UL << 20 };

    public static PcMachine NewMachine(MachineConfig? config = null) => new(config ?? Config());

    public static ISnapshotSection Section(PcMachine m, string name) => m.DeviceSections.Single(s => s.Name == name);

    public static byte[] Bytes(PcMachine m, string name) => Section(m, name).Save();

    /// <summary>Decodes every section of <paramref name="from"/> against <paramref name="to"/>, then applies them all.</summary>
    public static void CopyDevices(PcMachine from, PcMachine to)
    {
        var decoded = from.DeviceSections.Select(s => (Target: Section(to, s.Name), State: Section(to, s.Name).Decode(s.Save()))).ToList();
        foreach (var (target, state) in decoded) target.Apply(state);
    }

    /// <summary>
    /// A fresh machine with <paramref name="original"/>'s device state: each section in <paramref name="changed"/> must
    /// differ from a fresh machine's before the load (the test drove it out of reset), and after it every section's
    /// bytes equal the original's.
    /// </summary>
    public static PcMachine Restore(PcMachine original, params string[] changed) => Restore(original, Config(), changed);

    public static PcMachine Restore(PcMachine original, MachineConfig config, params string[] changed)
    {
        var copy = NewMachine(config);
        foreach (var name in changed)
            Assert.That(Bytes(original, name), Is.Not.EqualTo(Bytes(copy, name)), $"{name} is still in its reset state");
        CopyDevices(original, copy);
        AssertSameDevices(original, copy, "after the load");
        return copy;
    }

    public static void AssertSameDevices(PcMachine a, PcMachine b, string when)
    {
        foreach (var s in a.DeviceSections)
            Assert.That(Bytes(b, s.Name), Is.EqualTo(s.Save()), $"section {s.Name} {when}");
    }

    /// <summary>Both machines' clocks to <paramref name="time"/> (their events fire), then every device must agree.</summary>
    public static void AdvanceBoth(PcMachine a, PcMachine b, ulong time)
    {
        a.Clock.AdvanceTo(time);
        b.Clock.AdvanceTo(time);
        AssertSameDevices(a, b, $"at {time} ns");
    }

    /// <summary>The same observation (a register read, an acknowledge) on both machines gives the same answer.</summary>
    public static void Same<T>(PcMachine a, PcMachine b, Func<PcMachine, T> observe, string what) =>
        Assert.That(observe(b), Is.EqualTo(observe(a)), what);
}
