using System.Globalization;
using KhoEmu.Cpu.Smp;

namespace KhoEmu.Machine;

/// <summary>
/// QEMU's <c>-smp [cpus=]N[,maxcpus=M][,sockets=S][,dies=1][,clusters=1][,cores=C][,threads=T]</c> (QEMU 6.2+
/// <c>machine_parse_smp_config</c>): a missing count is derived preferring cores (sockets and threads default to 1,
/// cores take the rest), a missing <c>cpus</c> is the product, and the product must equal <c>maxcpus</c>. CPU
/// hot-plug (<c>maxcpus</c> above <c>cpus</c>), several dies or clusters are not modelled and are refused.
/// </summary>
public static class SmpOption
{
    public static CpuTopology Parse(string spec)
    {
        int? cpus = null, maxCpus = null, sockets = null, cores = null, threads = null;
        var parts = spec.Split(',');
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            int eq = part.IndexOf('=');
            string key = eq < 0 ? (i == 0 ? "cpus" : part) : part[..eq], value = eq < 0 ? part : part[(eq + 1)..];
            if (eq < 0 && i > 0) throw new FormatException($"-smp {spec}: '{part}' is not a property (cpus=, sockets=, cores=, threads=, maxcpus=)");
            if (key is not ("cpus" or "maxcpus" or "sockets" or "cores" or "threads" or "dies" or "clusters" or "books" or "drawers"))
                throw new FormatException($"-smp {spec}: unknown property '{key}' (cpus, sockets, cores, threads, maxcpus)");
            int n = Count(spec, key, value);
            switch (key)
            {
                case "cpus": cpus = n; break;
                case "maxcpus": maxCpus = n; break;
                case "sockets": sockets = n; break;
                case "cores": cores = n; break;
                case "threads": threads = n; break;
                case "dies" or "clusters" or "books" or "drawers":
                    if (n != 1) throw new FormatException($"-smp {spec}: {key}={n} is not modelled (one {key[..^1]} per socket)");
                    break;
            }
        }
        int nSockets, nCores, nThreads;
        if (cpus is null && maxCpus is null)
            (nSockets, nCores, nThreads) = (sockets ?? 1, cores ?? 1, threads ?? 1);
        else
        {
            int maxGiven = maxCpus ?? cpus!.Value;
            int? s1 = sockets, c1 = cores, t1 = threads;
            if (c1 is null)
            {
                s1 ??= 1;
                t1 ??= 1;
                c1 = maxGiven / (s1.Value * t1.Value);
            }
            else if (s1 is null)
            {
                t1 ??= 1;
                s1 = maxGiven / (c1.Value * t1.Value);
            }
            t1 ??= maxGiven / (s1.Value * c1.Value);
            (nSockets, nCores, nThreads) = (s1.Value, c1.Value, t1.Value);
        }
        var topology = new CpuTopology(nSockets, nCores, nThreads);
        int max = maxCpus ?? cpus ?? topology.Count;
        int count = cpus ?? max;
        if (topology.Count == 0 || topology.Count != max)
            throw new FormatException($"-smp {spec}: invalid topology: sockets ({nSockets}) * cores ({nCores}) * threads ({nThreads}) = {topology.Count} "
                + $"must equal maxcpus ({max})");
        if (count > max) throw new FormatException($"-smp {spec}: cpus={count} above maxcpus={max}");
        if (count != max) throw new FormatException($"-smp {spec}: cpus={count} below maxcpus={max} (CPU hot-plug) is not modelled");
        if (count > CpuTopology.MaxCpus || topology.ApicId(count - 1) >= 0xFF)
            throw new FormatException($"-smp {spec}: at most {CpuTopology.MaxCpus} processors with APIC IDs below 255 (xAPIC)");
        return topology;
    }

    private static int Count(string spec, string key, string value)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > 4096)
            throw new FormatException($"-smp {spec}: {key} must be a whole number from 1 (got '{value}')");
        return n;
    }
}
