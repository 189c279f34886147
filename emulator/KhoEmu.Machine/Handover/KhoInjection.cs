using System.Globalization;

namespace KhoEmu.Machine.Handover;

/// <summary>
/// A host-side fault for the oracle to inject at the kexec jump, after it hashed the preserved pages: flip (XOR
/// 0xFF) one byte of a preserved page. Page null means "auto": the first data page of the first memfd of the LUO
/// session with the most files (the later one on a tie) that no device wrote by DMA before the jump, else the first
/// kho_test folio, else the first preserved page no parser claimed. Spelled as the CLI takes it: <c>flip=auto</c>, <c>flip=0x12345000</c>, optionally
/// <c>,offset=N</c> (byte in the page, default 0: the selftests check their files' first bytes).
/// </summary>
public sealed record KhoInjection(ulong? Page, int Offset = 0)
{
    public static KhoInjection Parse(string spec)
    {
        ulong? page = null;
        int offset = 0;
        bool sawFlip = false;
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2);
            string value = kv.Length == 2 ? kv[1] : "";
            if (kv[0] == "flip")
            {
                sawFlip = true;
                if (value != "auto") page = Number(value, "flip") & ~0xFFFUL;
            }
            else if (kv[0] == "offset")
            {
                ulong o = Number(value, "offset");
                if (o >= 4096) throw new FormatException($"--kho-inject: offset={value} is not inside a 4 KiB page");
                offset = (int)o;
            }
            else throw new FormatException($"--kho-inject: unknown key '{kv[0]}' (flip=auto|PHYS[,offset=N])");
        }
        if (!sawFlip) throw new FormatException("--kho-inject: expected flip=auto or flip=PHYS");
        return new KhoInjection(page, offset);
    }

    private static ulong Number(string text, string key)
    {
        bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        if (ulong.TryParse(hex ? text[2..] : text, hex ? NumberStyles.HexNumber : NumberStyles.None, CultureInfo.InvariantCulture, out ulong v)) return v;
        throw new FormatException($"--kho-inject: {key}={text} is not a number");
    }
}
