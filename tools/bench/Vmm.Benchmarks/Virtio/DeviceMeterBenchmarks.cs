using BenchmarkDotNet.Attributes;
using Vmm.Core.Virtio.Execution;

namespace Vmm.Benchmarks.Virtio;

/// <summary>
/// What the leak accounting adds to one call into a device, on the worker: the path every call takes (two reads of
/// the thread's allocation counter), a sampled call (two counts read before and after, one statx each; listings
/// only when they moved, which they do not here), and an exactly counted call (the process's descriptors and threads
/// listed before and after, what <c>SampleEvery = 1</c> does). A device pays the first on every call and the second
/// on one call in <see cref="DeviceLimits.SampleEvery"/> (256).
/// </summary>
[MemoryDiagnoser]
public class DeviceMeterBenchmarks
{
    private DeviceResourceMeter _everyCall = null!;
    private DeviceResourceMeter _sampled = null!;
    private DeviceResourceMeter _exact = null!;

    [GlobalSetup]
    public void Setup()
    {
        _everyCall = new DeviceResourceMeter(new DeviceLimits { SampleEvery = 1 << 16 }, "bench");
        _sampled = new DeviceResourceMeter(new DeviceLimits(), "bench");
        _exact = new DeviceResourceMeter(new DeviceLimits { SampleEvery = 1 }, "bench");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _everyCall.Dispose();
        _sampled.Dispose();
        _exact.Dispose();
    }

    [Benchmark(Baseline = true)]
    public string? UnsampledCall()
    {
        _everyCall.Begin(always: false);
        return _everyCall.End();
    }

    [Benchmark]
    public string? SampledCall()
    {
        _sampled.Begin(always: true);
        return _sampled.End();
    }

    [Benchmark]
    public string? ExactCall()
    {
        _exact.Begin(always: false);
        return _exact.End();
    }
}
