using System.Text;
using NUnit.Framework;

namespace KhoEmu.Machine.Tests.Snapshots;

/// <summary>Serial input typed at wall-clock pace, recorded, and replayed without the typist: the same run.</summary>
public sealed class RecordReplayTests
{
    /// <summary>Hands out one byte per read, a few milliseconds of wall time apart (a person typing, roughly).</summary>
    private sealed class SlowTypist(string text) : Stream
    {
        private int _next;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _next; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_next >= text.Length) return 0;
            Thread.Sleep(3);
            buffer[offset] = (byte)text[_next++];
            return 1;
        }
    }

    private static (string Serial, MachineExit Exit, ulong Instructions, ulong Ram) Run(MachineConfig config)
    {
        var serial = new MemoryStream();
        config.SerialOutput = serial;
        using var m = new PcMachine(config);
        var exit = m.Run(20_000_000_000);
        return (Encoding.ASCII.GetString(serial.ToArray()), exit, m.InstructionCount, m.RamHash());
    }

    [Test]
    public void ReplayedRunIsTheRecordedRun()
    {
        var log = new SerialInputLog();
        var recorded = Run(new MachineConfig { Kernel = SerialInputTests.EchoGuest(), SerialInput = new SlowTypist("typed slowly\n"), SerialInputRecord = log });
        Assert.That(recorded.Exit.Kind, Is.EqualTo(ExitKind.DebugExit), recorded.Exit.Diagnostic);
        Assert.That(recorded.Serial, Is.EqualTo("TYPED SLOWLY"));
        Assert.That(log.Input.Sum(i => i.Bytes.Length), Is.EqualTo(13));
        Assert.That(log.Input.Count, Is.GreaterThan(1), "the typist's pace spread the input over several polls");

        string path = Path.GetTempFileName();
        try
        {
            log.Write(path);
            var back = SerialInputLog.Read(path);
            Assert.That(back.Input.Select(i => (i.Time, Convert.ToHexString(i.Bytes))), Is.EqualTo(log.Input.Select(i => (i.Time, Convert.ToHexString(i.Bytes)))));
            var replayed = Run(new MachineConfig { Kernel = SerialInputTests.EchoGuest(), SerialInputReplay = back });
            Assert.That(replayed, Is.EqualTo(recorded));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void ReplayDeliversAtTheRecordedTimesNotAtOnce()
    {
        var log = new SerialInputLog();
        log.Add(3_000_000, "ab"u8.ToArray());
        log.Add(9_000_000, "c\n"u8.ToArray());
        log.End(9_000_000);
        var a = Run(new MachineConfig { Kernel = SerialInputTests.EchoGuest(), SerialInputReplay = log });
        Assert.That(a.Serial, Is.EqualTo("ABC"));
        Assert.That(a.Instructions, Is.GreaterThan(9_000_000UL).And.LessThan(9_100_000UL), "the newline arrived with the poll at 9 ms");
    }

    [TestCase("", "not a khoemu record log")]
    [TestCase("khoemu-record 1\ninput 5 41\n", "no 'config' line")]
    [TestCase("khoemu-record 1\nconfig 12\ninput 5 4\n", ":3:")]
    [TestCase("khoemu-record 1\nconfig 12\ninput 9 41\ninput 5 41\n", "times go backwards")]
    [TestCase("khoemu-record 1\nconfig 12\nend 5\ninput 9 41\n", ":4:")]
    public void MalformedLogIsRefusedWithTheLine(string text, string reason)
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, text);
            var e = Assert.Throws<FormatException>(() => SerialInputLog.Read(path))!;
            Assert.That(e.Message, Does.Contain(reason));
        }
        finally { File.Delete(path); }
    }
}
