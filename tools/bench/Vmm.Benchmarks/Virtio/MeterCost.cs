using System.Diagnostics;
using System.Globalization;
using Vmm.Core.Virtio.Execution;

namespace Vmm.Benchmarks.Virtio;

/// <summary>
/// `-- meter-cost [ROUNDS] [CALLS]`: what the leak accounting adds per call, the sides alternating in each round (an
/// empty loop, the default schedule, every call sampled, every call listed); prints medians and spread in ns per call.
/// </summary>
internal static class MeterCost
{
    public static void Run(string[] args)
    {
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        int calls = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200_000;
        using var scheduled = new DeviceResourceMeter(DeviceLimits.Default, "bench");
        using var exact = new DeviceResourceMeter(DeviceLimits.Default with { SampleEvery = 1 }, "bench");
        (string Name, Func<int, double> Measure)[] sides =
        [
            ("empty loop", n => Time(n, () => { })),
            ("default schedule (1 in ~256 sampled)", n => Time(n, () => { scheduled.Begin(always: false); scheduled.End(); })),
            ("every call sampled (counts only)", n => Time(n / 64, () => { scheduled.Begin(always: true); scheduled.End(); })),
            ("every call listed (sampleEvery 1)", n => Time(n / 512, () => { exact.Begin(always: false); exact.End(); })),
        ];
        var results = sides.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < sides.Length; k++)
            {
                int i = (k + round) % sides.Length; // rotate the order round by round
                results[i].Add(sides[i].Measure(calls));
            }
        }

        for (int i = 0; i < sides.Length; i++)
        {
            double[] sorted = [.. results[i].Order()];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sides[i].Name}: median {sorted[sorted.Length / 2]:0.0} ns/call, min {sorted[0]:0.0}, max {sorted[^1]:0.0} ({rounds} rounds)"));
        }
    }

    private static double Time(int calls, Action call)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++)
        {
            call();
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / calls;
    }
}
