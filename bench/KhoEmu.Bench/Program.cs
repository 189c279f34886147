using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(KhoEmu.Bench.CpuThroughput).Assembly).Run(args);
