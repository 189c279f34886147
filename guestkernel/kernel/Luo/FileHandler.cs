using KhoEmu.Kernel.Fs;

namespace KhoEmu.Kernel.Luo;

/// <summary>
/// A live-update file handler, matched by compatible string (Linux's liveupdate_file_handler). Each preserved file
/// carries one u64 of serialized data from freeze to retrieve.
/// </summary>
public abstract class FileHandler
{
    public abstract string Compatible { get; }
    public abstract bool CanPreserve(KFile file);
    public abstract long Preserve(KFile file);
    public abstract void Unpreserve(KFile file);
    /// <summary>Called in preservation order inside reboot; produces the file's serialized data.</summary>
    public virtual long Freeze(KFile file, out ulong data)
    {
        data = 0;
        return 0;
    }
    public virtual void Unfreeze(KFile file, ulong data) { }
    /// <summary>New kernel: rebuilds the file from its data (each token once).</summary>
    public abstract long Retrieve(ulong data, out KFile? file);
    public virtual bool CanFinish(KFile file) => true;
    public virtual void Finish(KFile file) { }
}
