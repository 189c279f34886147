namespace KhoEmu.GuestStubs;

public static class UserStubs
{
    public static void Add(StubObject o) => CommonStubs.AddDataSymbols(o);
}
