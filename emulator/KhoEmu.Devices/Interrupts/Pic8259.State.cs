using KhoEmu.Core.State;
using KhoEmu.Devices.State;

namespace KhoEmu.Devices.Interrupts;

/// <summary>Each chip of the pair is its own snapshot section (<c>pic-master</c>, <c>pic-slave</c>).</summary>
public sealed partial class Pic8259
{
    public IStateful<PicChipState> MasterState => _master;
    public IStateful<PicChipState> SlaveState => _slave;

    private sealed partial class Chip : IStateful<PicChipState>
    {
        public PicChipState SaveState() => new(Irr, Isr, Imr, VectorBase, InitStep, ReadIsr, Icw4Needed, _lines);

        public void ValidateState(PicChipState s) => StateCheck.Range("pic", "init step", s.InitStep, 0, 3);

        public void LoadState(PicChipState s) =>
            (Irr, Isr, Imr, VectorBase, InitStep, ReadIsr, Icw4Needed, _lines) =
            (s.Irr, s.Isr, s.Imr, s.VectorBase, s.InitStep, s.ReadIsr, s.Icw4Needed, s.Lines);
    }
}
