using System.Runtime.InteropServices;
using KhoEmu.Guest.Shared;
using NUnit.Framework;

namespace KhoEmu.Guest.Tests;

/// <summary>
/// The one shared hvm_start_info definition (host direct boot, firmware, guest kernel) has Xen's layout: every field's
/// offset and each struct's size equal what gcc makes of start_info.h from the Linux tree (include/xen/interface/hvm).
/// </summary>
[TestFixture]
public sealed class HvmStartInfoLayoutTests
{
    private static IEnumerable<string> Layout<T>(string cName, string[] cFields) where T : unmanaged
    {
        var fields = typeof(T).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance);
        Assert.That(fields, Has.Length.EqualTo(cFields.Length), $"{typeof(T).Name} has start_info.h's fields");
        yield return $"sizeof({cName}) {Marshal.SizeOf<T>()}";
        for (int i = 0; i < fields.Length; i++) yield return $"offsetof({cName}.{cFields[i]}) {Marshal.OffsetOf<T>(fields[i].Name)}";
    }

    private static readonly (string Name, string[] Fields)[] Structs =
    [
        ("hvm_start_info", ["magic", "version", "flags", "nr_modules", "modlist_paddr", "cmdline_paddr", "rsdp_paddr", "memmap_paddr", "memmap_entries", "reserved"]),
        ("hvm_modlist_entry", ["paddr", "size", "cmdline_paddr", "reserved"]),
        ("hvm_memmap_table_entry", ["addr", "size", "type", "reserved"]),
    ];

    [Test]
    public void SizesAreTheDocumentedOnes()
    {
        Assert.That(Marshal.SizeOf<HvmStartInfo>(), Is.EqualTo(HvmStartInfo.Bytes).And.EqualTo(56));
        Assert.That(Marshal.SizeOf<HvmModlistEntry>(), Is.EqualTo(HvmModlistEntry.Bytes).And.EqualTo(32));
        Assert.That(Marshal.SizeOf<HvmMemmapEntry>(), Is.EqualTo(HvmMemmapEntry.Bytes).And.EqualTo(24));
    }

    [Test]
    public void LayoutEqualsXensHeader()
    {
        string? tree = Directory.Exists(LinuxCache()) ? Directory.GetDirectories(LinuxCache(), "tree-*")
            .FirstOrDefault(t => File.Exists(Path.Combine(t, "include", "xen", "interface", "hvm", "start_info.h"))) : null;
        if (tree is null || !HostTool.Exists("gcc")) Assert.Ignore("needs gcc and the Linux tree tests/linux/kho/prepare.sh builds");
        string dir = Path.Combine(Path.GetTempPath(), $"khoemu-startinfo-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            string src = Path.Combine(dir, "layout.c"), exe = Path.Combine(dir, "layout");
            var lines = new List<string> { "#include <stdio.h>", "#include <stddef.h>", "#include <stdint.h>",
                $"#include \"{Path.Combine(tree, "include", "xen", "interface", "hvm", "start_info.h")}\"", "int main(void) {" };
            foreach (var (name, fields) in Structs)
            {
                lines.Add($"printf(\"sizeof({name}) %zu\\n\", sizeof(struct {name}));");
                foreach (var f in fields) lines.Add($"printf(\"offsetof({name}.{f}) %zu\\n\", offsetof(struct {name}, {f}));");
            }
            lines.Add("return 0; }");
            File.WriteAllLines(src, lines);
            var gcc = HostTool.Run("gcc", ["-o", exe, src], dir, TimeSpan.FromMinutes(1));
            Assert.That(gcc.ExitCode, Is.Zero, gcc.Stderr);
            var xen = HostTool.Run(exe, [], dir, TimeSpan.FromSeconds(30)).Text.Trim().Split('\n');
            var ours = Layout<HvmStartInfo>(Structs[0].Name, Structs[0].Fields)
                .Concat(Layout<HvmModlistEntry>(Structs[1].Name, Structs[1].Fields))
                .Concat(Layout<HvmMemmapEntry>(Structs[2].Name, Structs[2].Fields)).ToArray();
            Assert.That(ours, Is.EqualTo(xen));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static string LinuxCache() => Path.Combine(Environment.GetEnvironmentVariable("KHOEMU_CACHE")
        ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? "/", ".cache"), "khoemu"), "linux-kho");
}
