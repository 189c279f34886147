using MemoryPack;

namespace KhoEmu.Devices.Input;

/// <summary>A byte waiting for the 8042's output buffer, and whether it is from the aux port.</summary>
[MemoryPackable]
public readonly partial record struct I8042Byte(byte Value, bool Aux);

/// <summary>The 8042: status, command byte, output port, the output buffer and the bytes queued behind it, the command
/// awaiting its data byte and the IRQ 1 / IRQ 12 levels.</summary>
[MemoryPackable]
public sealed partial record I8042State(byte Status, byte Mode, byte OutPort, byte OutputBuffer, byte PendingCommand,
    I8042Byte[] Pending, bool KeyboardLevel, bool AuxLevel);
