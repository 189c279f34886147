using MemoryPack;

namespace KhoEmu.Devices.Uart16550;

/// <summary>The UART: the receive FIFO's bytes, every register and the pending THR-empty interrupt.</summary>
[MemoryPackable]
public sealed partial record Uart16550State(byte[] Rx, byte Ier, byte Lcr, byte Mcr, byte Scr, byte Dll, byte Dlm, bool ThrInterruptPending);
