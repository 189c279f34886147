using Iced.Intel;
using KhoEmu.Cpu.Decode;
using KhoEmu.Cpu.Semantics;

namespace KhoEmu.Cpu.Dispatch;

/// <summary>Table rows for the feature-gated extensions: SSE3, EMMS, SMAP, PKU, RDPID, RDPMC and the XSAVE family.</summary>
internal static unsafe class ExtensionTable
{
    public static void Register(Action<nint, Mnemonic[]> on)
    {
        void Reg(delegate*<Cpu, ref DecodedOp, void> h, params Mnemonic[] ms) => on((nint)h, ms);
        Reg(&Sse3.Haddpd, Mnemonic.Haddpd);
        Reg(&Sse3.Haddps, Mnemonic.Haddps);
        Reg(&Sse3.Hsubpd, Mnemonic.Hsubpd);
        Reg(&Sse3.Hsubps, Mnemonic.Hsubps);
        Reg(&Sse3.Addsubpd, Mnemonic.Addsubpd);
        Reg(&Sse3.Addsubps, Mnemonic.Addsubps);
        Reg(&Sse3.Movsldup, Mnemonic.Movsldup);
        Reg(&Sse3.Movshdup, Mnemonic.Movshdup);
        Reg(&Sse3.Movddup, Mnemonic.Movddup);
        Reg(&Extensions.Emms, Mnemonic.Emms);
        Reg(&Extensions.Stac, Mnemonic.Stac);
        Reg(&Extensions.Clac, Mnemonic.Clac);
        Reg(&Extensions.Rdpkru, Mnemonic.Rdpkru);
        Reg(&Extensions.Wrpkru, Mnemonic.Wrpkru);
        Reg(&Extensions.Rdpid, Mnemonic.Rdpid);
        Reg(&Extensions.Rdpmc, Mnemonic.Rdpmc);
        Reg(&Extensions.Xgetbv, Mnemonic.Xgetbv);
        Reg(&Extensions.Xsetbv, Mnemonic.Xsetbv);
        Reg(&Xsave.Save, Mnemonic.Xsave, Mnemonic.Xsave64, Mnemonic.Xsaveopt, Mnemonic.Xsaveopt64);
        Reg(&Xsave.SaveCompacted, Mnemonic.Xsavec, Mnemonic.Xsavec64);
        Reg(&Xsave.Restore, Mnemonic.Xrstor, Mnemonic.Xrstor64);
    }
}
