namespace KhoEmu.GuestStubs;

/// <summary>khoemu-stubs SET OUTPUT.o: writes the architecture stubs of one guest image (kernel, firmware, user).</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: khoemu-stubs kernel|firmware|user OUTPUT.o");
            return 2;
        }
        var o = new StubObject();
        switch (args[0])
        {
            case "kernel": KernelStubs.Add(o); break;
            case "firmware": FirmwareStubs.Add(o); break;
            case "user": UserStubs.Add(o); break;
            default:
                Console.Error.WriteLine($"khoemu-stubs: unknown stub set '{args[0]}'");
                return 2;
        }
        byte[] obj = o.Build();
        string? dir = Path.GetDirectoryName(Path.GetFullPath(args[1]));
        if (dir is not null) Directory.CreateDirectory(dir);
        // Write only when changed, so incremental guest builds stay incremental.
        if (!File.Exists(args[1]) || !File.ReadAllBytes(args[1]).AsSpan().SequenceEqual(obj)) File.WriteAllBytes(args[1], obj);
        return 0;
    }
}
