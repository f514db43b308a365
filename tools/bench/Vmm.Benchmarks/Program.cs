using BenchmarkDotNet.Running;
using Vmm.Benchmarks.Virtio;

if (args.Length > 0 && args[0] == "worker-overhead")
{
    WorkerOverhead.Run(args);
    return;
}

if (args.Length > 0 && args[0] == "meter-cost")
{
    MeterCost.Run(args);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
