namespace KhoEmu.Memory;

/// <summary>E820 / PVH memory map entry types (ACPI specification, "System Address Map Interfaces").</summary>
public enum E820Type : uint
{
    Ram = 1,
    Reserved = 2,
    Acpi = 3,
    Nvs = 4,
    Unusable = 5,
}

/// <summary>One entry of the machine's memory map.</summary>
public readonly record struct E820Entry(ulong Address, ulong Length, E820Type Type);
