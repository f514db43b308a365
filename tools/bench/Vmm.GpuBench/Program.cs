using System.Globalization;
using Vmm.GpuBench;

// virtio-gpu side by side: the same C# vhost-user front-end drives our device and QEMU's vhost-user-gpu back-end,
// one TRANSFER_TO_HOST_2D + RESOURCE_FLUSH pair in flight, each frame answered and shown on a display before the next.
string? qemuBackend = null;
int width = 1920;
int height = 1080;
double seconds = 3;
int repeat = 3;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--vhost-user-gpu":
            qemuBackend = args[++i];
            break;
        case "--seconds":
            seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--repeat":
            repeat = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        default:
            Console.Error.WriteLine("usage: Vmm.GpuBench [--vhost-user-gpu PATH] [--seconds S] [--repeat N]");
            return 2;
    }
}

if (repeat < 1 || seconds <= 0)
{
    Console.Error.WriteLine("--repeat must be at least 1 and --seconds positive.");
    return 2;
}

Damage[] cases =
[
    new("full frame 1920x1080", 0, 0, width, height),
    new("10% damage 1920x108", 0, (height - (height / 10)) / 2, width, height / 10),
];
var duration = TimeSpan.FromSeconds(seconds);
bool withQemu = qemuBackend is not null && File.Exists(qemuBackend);
if (!withQemu)
{
    Console.Error.WriteLine($"QEMU's vhost-user-gpu back-end not found ({qemuBackend ?? "no --vhost-user-gpu given"}; tools/install-deps.sh --with-vhost-user-gpu installs it): measuring our device only.");
}

string[] names = withQemu ? ["vmm virtio-gpu", "QEMU vhost-user-gpu"] : ["vmm virtio-gpu"];
var frameRates = new List<double>[names.Length, cases.Length];
var copyRates = new List<double>[cases.Length];
for (int c = 0; c < cases.Length; c++)
{
    copyRates[c] = [];
    for (int b = 0; b < names.Length; b++)
    {
        frameRates[b, c] = [];
    }
}

for (int run = 1; run <= repeat; run++)
{
    for (int b = 0; b < names.Length; b++)
    {
        string work = Directory.CreateTempSubdirectory("vmm-gpubench-").FullName;
        try
        {
            string socket = Path.Combine(work, "gpu.sock");
            await using Backend backend = b == 0 ? Backend.StartOurs(socket, width, height) : Backend.StartQemu(qemuBackend!, socket);
            double[] rates = Workload.Run(backend, width, height, cases, duration, run);
            for (int c = 0; c < cases.Length; c++)
            {
                frameRates[b, c].Add(rates[c]);
                Console.Error.WriteLine($"run {run}: {backend.Name,-20} {cases[c].Name,-22} {rates[c],8:F1} frames/s {rates[c] * cases[c].Bytes / (1 << 20),8:F0} MiB/s");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    for (int c = 0; c < cases.Length; c++)
    {
        copyRates[c].Add(Workload.MemoryCopy(cases[c].Bytes, duration));
    }
}

Console.WriteLine($"virtio-gpu over vhost-user, {width}x{height} B8G8R8X8, TRANSFER_TO_HOST_2D + RESOURCE_FLUSH per frame, each answered and shown on the display before the next");
Console.WriteLine($"median of {repeat} run(s) of {seconds:F1} s, [min-max]; commands/s = 2 x frames/s; MiB/s = damaged bytes x frames/s");
Console.Write($"{"workload",-24}{"metric",-12}");
foreach (string name in names)
{
    Console.Write($"{name,28}");
}

Console.WriteLine(withQemu ? $"{"vmm/QEMU",10}" : string.Empty);
for (int c = 0; c < cases.Length; c++)
{
    foreach ((string metric, double scale) in new[] { ("frames/s", 1.0), ("commands/s", 2.0), ("MiB/s", cases[c].Bytes / (double)(1 << 20)) })
    {
        Console.Write($"{cases[c].Name,-24}{metric,-12}");
        for (int b = 0; b < names.Length; b++)
        {
            Console.Write($"{Summary(frameRates[b, c], scale),28}");
        }

        Console.WriteLine(withQemu ? $"{Median(frameRates[0, c]) / Median(frameRates[1, c]),10:F2}" : string.Empty);
    }
}

Console.WriteLine();
Console.WriteLine("frame-copy bandwidth against one plain memory copy of the same bytes (Span.CopyTo, this process)");
Console.Write($"{"workload",-24}{"plain copy MiB/s",28}");
foreach (string name in names)
{
    Console.Write($"{name + "/copy",28}");
}

Console.WriteLine();
for (int c = 0; c < cases.Length; c++)
{
    double mib = cases[c].Bytes / (double)(1 << 20);
    Console.Write($"{cases[c].Name,-24}{Summary(copyRates[c], mib),28}");
    for (int b = 0; b < names.Length; b++)
    {
        Console.Write($"{Median(frameRates[b, c]) / Median(copyRates[c]),28:F3}");
    }

    Console.WriteLine();
}

return 0;

static double Median(List<double> values)
{
    double[] sorted = [.. values.Order()];
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static string Summary(List<double> values, double scale) =>
    string.Create(CultureInfo.InvariantCulture, $"{Median(values) * scale:F0} [{values.Min() * scale:F0}-{values.Max() * scale:F0}]");
