using System.Globalization;
using Vmm.Bench;
using Vmm.Contracts.Display;
using Vmm.LgmpBench;
using Vmm.Plugins.Ivshmem.Kvmfr;

// LGMP/KVMFR frame handoff: our producer writes a frame into a memfd (post, then stream with wp), our consumer copies
// it out on another thread and acks. Each run times, back to back with the order alternating, a plain copy of the
// same bytes and the handoff: back-to-back frames per second, then one frame at a time for the latency from the
// producer's SubmitFrame call to the end of the consumer's copy-out (the plain copy's latency is one copy). A third
// slice runs producer and consumer on one thread (submit, poll): the protocol's cost without thread hand-offs.
double seconds = 1;
int repeat = 7;
if (!new BenchArguments("Vmm.LgmpBench")
        .Positive("--seconds", "S per slice", v => seconds = v)
        .Int("--repeat", "N runs", v => repeat = v)
        .TryParse(args))
{
    return 2;
}

(string Name, int Width, int Height, bool Damage)[] cases =
[
    ("1920x1080 full", 1920, 1080, false),
    ("1920x1080 10%", 1920, 1080, true),
    ("3840x2160 full", 3840, 2160, false),
    ("3840x2160 10%", 3840, 2160, true),
];
var slice = TimeSpan.FromSeconds(seconds);
Console.WriteLine($"# {Environment.ProcessorCount} CPUs, {repeat} runs of {seconds} s slices; cells: median [min-max] over runs");
Console.WriteLine("| case | MiB/frame | copy frames/s | cold copy frames/s | LGMP frames/s | LGMP/copy | LGMP/cold copy | 1-thread LGMP frames/s | 1-thread/copy | copy p50/p99 µs | LGMP p50/p99 µs | LGMP p99 - copy p99 µs | deferred |");
Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
foreach ((string name, int width, int height, bool damage) in cases)
{
    DamageRect? band = damage ? new DamageRect(0, (height - (height / 10)) / 2, width, height / 10) : null;
    using var handoff = new Handoff(width, height, band);
    using var oneThread = new Handoff(width, height, band, readerThread: false);
    var oneThreadRates = new List<double>();
    var oneThreadRatios = new List<double>();
    var copy = new PlainCopy(handoff.Bytes, cold: false);
    var coldCopy = new PlainCopy(handoff.Bytes, cold: true);
    var coldRates = new List<double>();
    var coldRatios = new List<double>();
    var copyRates = new List<double>();
    var lgmpRates = new List<double>();
    var ratios = new List<double>();
    var copyP50 = new List<double>();
    var copyP99 = new List<double>();
    var lgmpP50 = new List<double>();
    var lgmpP99 = new List<double>();
    var p99Delta = new List<double>();
    for (int run = 0; run < repeat; run++)
    {
        double copyRate;
        double lgmpRate;
        List<double> copyLatency;
        List<double> lgmpLatency;
        if (run % 2 == 0)
        {
            copyRate = copy.Stream(slice);
            lgmpRate = handoff.Stream(slice);
            copyLatency = copy.Latencies(slice);
            lgmpLatency = handoff.PingPong(slice);
        }
        else
        {
            lgmpRate = handoff.Stream(slice);
            copyRate = copy.Stream(slice);
            lgmpLatency = handoff.PingPong(slice);
            copyLatency = copy.Latencies(slice);
        }

        double coldRate = coldCopy.Stream(slice);
        coldRates.Add(coldRate);
        coldRatios.Add(lgmpRate / coldRate);
        double oneThreadRate = oneThread.Stream(slice);
        oneThreadRates.Add(oneThreadRate);
        oneThreadRatios.Add(oneThreadRate / copyRate);
        copyRates.Add(copyRate);
        lgmpRates.Add(lgmpRate);
        ratios.Add(lgmpRate / copyRate);
        copyP50.Add(Percentile(copyLatency, 0.50));
        copyP99.Add(Percentile(copyLatency, 0.99));
        lgmpP50.Add(Percentile(lgmpLatency, 0.50));
        lgmpP99.Add(Percentile(lgmpLatency, 0.99));
        p99Delta.Add(lgmpP99[^1] - copyP99[^1]);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {handoff.Bytes / 1048576.0:F2} | {Cell(copyRates, "F0")} | {Cell(coldRates, "F0")} | {Cell(lgmpRates, "F0")} | {Cell(ratios, "F2")} | {Cell(coldRatios, "F2")} | {Cell(oneThreadRates, "F0")} | {Cell(oneThreadRatios, "F2")} | {Median(copyP50):F0}/{Median(copyP99):F0} | {Median(lgmpP50):F0}/{Median(lgmpP99):F0} | {Cell(p99Delta, "F0")} | {handoff.Deferred} |"));
}

return 0;

static double Percentile(List<double> samples, double p)
{
    if (samples.Count == 0)
    {
        return double.NaN;
    }

    samples.Sort();
    return samples[Math.Min(samples.Count - 1, (int)(p * samples.Count))];
}

static double Median(List<double> values) => Percentile([.. values], 0.5);

static string Cell(List<double> values, string format) =>
    string.Create(CultureInfo.InvariantCulture, $"{Median(values).ToString(format, CultureInfo.InvariantCulture)} [{values.Min().ToString(format, CultureInfo.InvariantCulture)}-{values.Max().ToString(format, CultureInfo.InvariantCulture)}]");
