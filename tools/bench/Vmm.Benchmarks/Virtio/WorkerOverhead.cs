using System.Diagnostics;
using System.Globalization;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Execution;
using Vmm.Testing.Virtio;

namespace Vmm.Benchmarks.Virtio;

/// <summary>
/// `-- worker-overhead [ROUNDS] [CALLS]`: calls through a <see cref="VirtioDeviceWorker"/> with the leak accounting on
/// (default limits) and off, the two sides alternating round by round; prints each side's ns per call and the ratio's
/// median and spread. The device does a fixed amount of work per call (about what a small request costs) so that the
/// figure is the accounting's share of a call, not of a thread wake-up.
/// </summary>
internal static class WorkerOverhead
{
    public static void Run(string[] args)
    {
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        int calls = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20_000;
        var metered = new List<double>();
        var unmetered = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            bool meteredFirst = round % 2 == 0;
            double first = Measure(meteredFirst, calls);
            double second = Measure(!meteredFirst, calls);
            (meteredFirst ? metered : unmetered).Add(first);
            (meteredFirst ? unmetered : metered).Add(second);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: metered {metered[^1]:0} ns/call, unmetered {unmetered[^1]:0} ns/call"));
        }

        double[] ratios = [.. metered.Zip(unmetered, (m, u) => m / u).Order()];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"metered/unmetered per call: median {ratios[ratios.Length / 2]:0.000}, min {ratios[0]:0.000}, max {ratios[^1]:0.000} over {rounds} rounds of {calls} calls; medians {Median(metered):0} ns vs {Median(unmetered):0} ns"));
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static double Measure(bool metered, int calls)
    {
        var device = new SpinDevice();
        using var worker = new VirtioDeviceWorker(device, null, DeviceLimits.Default with { Metered = metered });
        worker.Activate(new EmptyDeviceContext());
        SpinWait.SpinUntil(() => Volatile.Read(ref device.Calls) >= 1);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++)
        {
            long before = Volatile.Read(ref device.Calls);
            worker.Notify(0);
            while (Volatile.Read(ref device.Calls) == before)
            {
                Thread.SpinWait(1);
            }
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / calls;
    }

    private sealed class SpinDevice : IVirtioDevice
    {
        public long Calls;
        private ulong _state = 1;

        public string Id => "bench";

        public VirtioDeviceType DeviceType => VirtioDeviceType.Entropy;

        public ulong DeviceFeatures => 0;

        public IReadOnlyList<ushort> QueueMaxSizes { get; } = [64];

        public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => [];

        public int ConfigSize => 0;

        public void Activate(IVirtioDeviceContext context)
        {
        }

        public void ProcessQueue(int queueIndex)
        {
            // About a microsecond of work, like reading a descriptor chain and filling a small buffer.
            for (int i = 0; i < 400; i++)
            {
                _state ^= _state << 13;
                _state ^= _state >> 7;
                _state ^= _state << 17;
            }

            Volatile.Write(ref Calls, Calls + 1);
        }

        public void Reset()
        {
        }

        public void ReadConfig(int offset, Span<byte> data) => data.Clear();

        public void WriteConfig(int offset, ReadOnlySpan<byte> data)
        {
        }

        public void Dispose()
        {
        }
    }
}
