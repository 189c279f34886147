using System.Buffers.Binary;

namespace KhoEmu.Machine.Acpi;

/// <summary>
/// Resource descriptors for _CRS buffers (ACPI 6.5 §6.4, "Resource Data Types for ACPI"), ending with the End Tag.
/// Address-space descriptors are written as producers with fixed minimum and maximum and positive decode, as a host
/// bridge's windows are (the flags QEMU's q35 _CRS uses).
/// </summary>
public sealed class ResourceTemplate
{
    private readonly List<byte> _bytes = [];

    /// <summary>I/O port descriptor (§6.4.2.5, small item 0x47), 16-bit decode.</summary>
    public ResourceTemplate Io(ushort min, ushort max, byte alignment, byte length)
    {
        _bytes.Add(0x47);
        _bytes.Add(0x01);                                        // decodes 16 address lines
        Add16(min);
        Add16(max);
        _bytes.Add(alignment);
        _bytes.Add(length);
        return this;
    }

    /// <summary>IRQ descriptor without the information byte (§6.4.2.1, small item 0x22): edge, active high.</summary>
    public ResourceTemplate IrqNoFlags(params int[] irqs)
    {
        ushort mask = 0;
        foreach (int irq in irqs)
        {
            if (irq is < 0 or > 15) throw new ArgumentOutOfRangeException(nameof(irqs), "ISA IRQs are 0-15");
            mask |= (ushort)(1 << irq);
        }
        _bytes.Add(0x22);
        Add16(mask);
        return this;
    }

    /// <summary>32-bit fixed memory range descriptor (§6.4.3.4, large item 0x86).</summary>
    public ResourceTemplate Memory32Fixed(bool writable, uint address, uint length)
    {
        _bytes.Add(0x86);
        Add16(9);
        _bytes.Add(writable ? (byte)1 : (byte)0);
        Add32(address);
        Add32(length);
        return this;
    }

    private const byte ProducerMinMaxFixed = 0x0C;              // _MIF | _MAF, producer, positive decode (§6.4.3.5.2)

    /// <summary>Word address space descriptor for bus numbers (§6.4.3.5.3, resource type 2).</summary>
    public ResourceTemplate WordBusNumber(ushort min, ushort max) => WordSpace(2, 0x00, min, max);

    /// <summary>Word address space descriptor for I/O (§6.4.3.5.3, resource type 1, _RNG = entire range).</summary>
    public ResourceTemplate WordIo(ushort min, ushort max) => WordSpace(1, 0x03, min, max);

    private ResourceTemplate WordSpace(byte type, byte typeFlags, ushort min, ushort max)
    {
        _bytes.Add(0x88);
        Add16(13);
        _bytes.Add(type);
        _bytes.Add(ProducerMinMaxFixed);
        _bytes.Add(typeFlags);
        Add16(0);                                                // granularity
        Add16(min);
        Add16(max);
        Add16(0);                                                // translation offset
        Add16((ushort)(max - min + 1));
        return this;
    }

    /// <summary>DWord memory descriptor (§6.4.3.5.2, large item 0x87): read-write, non-cacheable.</summary>
    public ResourceTemplate DWordMemory(uint min, uint max)
    {
        _bytes.Add(0x87);
        Add16(23);
        _bytes.Add(0);                                           // memory range
        _bytes.Add(ProducerMinMaxFixed);
        _bytes.Add(0x01);                                        // _RW read-write, _MEM non-cacheable
        Add32(0);                                                // granularity
        Add32(min);
        Add32(max);
        Add32(0);                                                // translation offset
        Add32(max - min + 1);
        return this;
    }

    /// <summary>The descriptors followed by the End Tag (§6.4.2.9; checksum 0 means "none").</summary>
    public byte[] ToArray() => [.. _bytes, 0x79, 0x00];

    private void Add16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); _bytes.AddRange(b); }
    private void Add32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); _bytes.AddRange(b); }
}
