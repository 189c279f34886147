namespace KhoEmu.GuestStubs;

public static class FirmwareStubs
{
    public static void Add(StubObject o) => CommonStubs.AddPrivileged(o);
}
