namespace KhoEmu.Cpu;

/// <summary>
/// One selectable processor model (QEMU's <c>-cpu NAME</c>): what CPUID reports and which feature-dependent
/// behaviour the CPU has. Immutable; the catalogue is <see cref="CpuModels"/>. CPUID encoding is in
/// CpuModel.Cpuid.cs.
/// </summary>
public sealed partial class CpuModel
{
    public const string Intel = "GenuineIntel", Amd = "AuthenticAMD";

    private readonly uint[] _features = new uint[8];

    public CpuModel(string name, string vendor, int family, int model, int stepping, string brand, uint maxBasicLeaf,
        uint maxExtendedLeaf, IEnumerable<CpuFeature> features)
    {
        Name = name;
        Vendor = vendor;
        Family = family;
        Model = model;
        Stepping = stepping;
        Brand = brand;
        MaxBasicLeaf = maxBasicLeaf;
        MaxExtendedLeaf = maxExtendedLeaf;
        foreach (var f in features) _features[(int)f >> 5] |= 1u << ((int)f & 31);
    }

    /// <summary>The <c>-cpu</c> name (QEMU's model name).</summary>
    public string Name { get; }
    /// <summary>The CPUID.0 vendor string: <see cref="Intel"/> or <see cref="Amd"/>.</summary>
    public string Vendor { get; }
    public int Family { get; }
    public int Model { get; }
    public int Stepping { get; }
    /// <summary>The brand string of leaves 8000_0002h-8000_0004h (QEMU's model-id).</summary>
    public string Brand { get; }
    public uint MaxBasicLeaf { get; }
    public uint MaxExtendedLeaf { get; }

    /// <summary>IA32_ARCH_CAPABILITIES (MSR 10Ah) when <see cref="CpuFeature.ArchCapabilities"/> is advertised.</summary>
    public ulong ArchCapabilities { get; init; }

    /// <summary>IA32_BIOS_SIGN_ID / PATCH_LEVEL (MSR 8Bh) as RDMSR returns it; QEMU's defaults per vendor.</summary>
    public ulong MicrocodeRevision => IsIntel ? 0x1_0000_0000UL : 0x0100_0065UL;

    public bool IsIntel => Vendor == Intel;

    /// <summary>True when CPUID advertises <paramref name="feature"/> (before IA32_MISC_ENABLE adjustments).</summary>
    public bool Has(CpuFeature feature) => (_features[(int)feature >> 5] & (1u << ((int)feature & 31))) != 0;

    /// <summary>Family/model/stepping as CPUID.1:EAX encodes them (SDM vol. 2A, figure 3-6): extended family and
    /// model fields are used for family 15 and, for the model, families 6 and 15.</summary>
    public uint Signature
    {
        get
        {
            uint baseFamily = (uint)Math.Min(Family, 15), extFamily = (uint)Math.Max(Family - 15, 0);
            uint baseModel = (uint)Model & 0xF, extModel = (uint)Model >> 4;
            return (extFamily << 20) | (extModel << 16) | (baseFamily << 8) | (baseModel << 4) | (uint)Stepping;
        }
    }

    public override string ToString() => $"{Name} ({Vendor} family {Family} model {Model} stepping {Stepping}, \"{Brand}\")";
}
