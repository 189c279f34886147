namespace KhoEmu.Kernel.Luo;

/// <summary>
/// Kernel-side fault injection for the handover-faults scenario. Ring 3 arms one fault before a kexec by writing
/// "NAME[:K]" to /sys/kernel/debug/kho/fault; the outgoing kernel then breaks exactly that item while it
/// serializes (or fails the K-th freeze). Names: freeze-fail:K, unknown-compatible:K, duplicate-token:K,
/// corrupt-fdt, bad-luo-compatible, truncate-map.
/// </summary>
public static unsafe class FaultInjection
{
    public const int None = 0, FreezeFail = 1, UnknownCompatible = 2, DuplicateToken = 3, CorruptFdtFault = 4,
        BadLuoCompatible = 5, TruncateMap = 6;
    public static int Active;
    public static int Index;
    private static int s_freezes;

    public static string Name(int f) => f switch
    {
        FreezeFail => "freeze-fail", UnknownCompatible => "unknown-compatible", DuplicateToken => "duplicate-token",
        CorruptFdtFault => "corrupt-fdt", BadLuoCompatible => "bad-luo-compatible", TruncateMap => "truncate-map", _ => "none",
    };

    /// <summary>Parses "NAME[:K]"; false when the name is unknown.</summary>
    public static bool Arm(byte* text, int length)
    {
        int colon = 0;
        while (colon < length && text[colon] != ':' && text[colon] != '\n') colon++;
        int k = 0;
        for (int i = colon + 1; i < length && text[i] >= '0' && text[i] <= '9'; i++) k = k * 10 + (text[i] - '0');
        for (int f = 1; f <= TruncateMap; f++)
        {
            string n = Name(f);
            if (n.Length != colon) continue;
            bool match = true;
            for (int i = 0; i < colon && match; i++) match = text[i] == n[i];
            if (!match) continue;
            Active = f;
            Index = k;
            s_freezes = 0;
            return true;
        }
        if (colon == 4 && text[0] == 'n' && text[1] == 'o' && text[2] == 'n' && text[3] == 'e')
        {
            Active = None;
            return true;
        }
        return false;
    }

    public static bool FreezeShouldFail() => Active == FreezeFail && s_freezes++ == Index;

    public static string CompatibleFor(string compatible, int fileIndex) =>
        Active == UnknownCompatible && fileIndex == Index ? "bogus-handler-v9" : compatible;

    public static ulong TokenFor(ulong token, int fileIndex, ulong firstToken) =>
        Active == DuplicateToken && fileIndex == Index && fileIndex > 0 ? firstToken : token;

    public static string LuoCompatible() => Active == BadLuoCompatible ? "luo-v0" : "luo-v1";

    /// <summary>corrupt-fdt: damages the luo-session node's compatible property value in the written blob.</summary>
    public static void CorruptFdt(byte* fdt)
    {
        if (Active != CorruptFdtFault) return;
        // Find "luo-session-v2" in the structure block and change its version digit.
        for (int i = 0; i < 4000; i++)
        {
            if (fdt[i] == 'l' && fdt[i + 1] == 'u' && fdt[i + 2] == 'o' && fdt[i + 3] == '-' && fdt[i + 4] == 's'
                && fdt[i + 11] == '-' && fdt[i + 12] == 'v' && fdt[i + 13] == '2')
            {
                fdt[i + 13] = (byte)'7';
                KhoEmu.Guest.Platform.Console.WriteLine("luo: fault injection: LUO FDT luo-session compatible damaged");
                return;
            }
        }
        KhoEmu.Guest.Platform.Console.WriteLine("luo: fault injection: corrupt-fdt found nothing to damage");
    }

    public static bool TruncateMapNow() => Active == TruncateMap;
}
