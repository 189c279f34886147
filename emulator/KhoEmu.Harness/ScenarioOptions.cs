namespace KhoEmu.Harness;

/// <summary>
/// How <c>khoemu test</c> runs a scenario when the user overrides its defaults: RAM, instruction budget, a host
/// wall-clock limit, another build of the project's kernel, a user's own init, extra kernel options, and a live view
/// of the console. Null means the scenario's own value.
/// </summary>
public sealed record ScenarioOptions
{
    public string ExtraCmdline { get; init; } = "";
    public ulong? MemorySize { get; init; }
    public ulong? MaxInstructions { get; init; }
    /// <summary>Processors (QEMU's <c>-smp N</c>); the instruction budget counts all of them together.</summary>
    public int Cpus { get; init; } = 1;
    /// <summary>Host wall-clock limit for the whole boot; checked between slices of the run, so the machine is stopped
    /// at an instruction boundary (never torn down mid-instruction).</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Another build of the project's kernel (kernel.elf) instead of the embedded one.</summary>
    public byte[]? Kernel { get; init; }
    /// <summary>A static ring-3 ELF to run as init instead of the project's (fw_cfg opt/khoemu/init).</summary>
    public byte[]? Init { get; init; }
    public Stream? LiveSerial { get; init; }
}
