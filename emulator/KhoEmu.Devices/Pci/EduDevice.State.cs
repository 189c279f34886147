using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Pci;

public sealed partial class EduDevice : IStateful<EduState>
{
    public EduState SaveState() => new(SaveConfig(), (byte[])_buffer.Clone(), _liveness, _factorial, _status, _irqStatus,
        _dmaSrc, _dmaDst, _dmaCount, _dmaCmd, DmaTransfers, DmaFailures);

    public void ValidateState(EduState s)
    {
        ValidateConfig(s.Pci);
        StateCheck.Length(Name, "DMA buffer", s.Buffer, (int)BufferSize);
        StateCheck.Bits(Name, "status", s.Status, 0x81);
    }

    public void LoadState(EduState s)
    {
        LoadConfig(s.Pci);
        s.Buffer.CopyTo(_buffer, 0);
        (_liveness, _factorial, _status, _irqStatus) = (s.Liveness, s.Factorial, s.Status, s.IrqStatus);
        (_dmaSrc, _dmaDst, _dmaCount, _dmaCmd) = (s.DmaSrc, s.DmaDst, s.DmaCount, s.DmaCmd);
        (DmaTransfers, DmaFailures) = (s.DmaTransfers, s.DmaFailures);
    }
}
