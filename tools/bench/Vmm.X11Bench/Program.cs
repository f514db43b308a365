using System.Globalization;
using Vmm.Bench;
using Vmm.Plugins.CrossDomain.Testing;
using Vmm.Plugins.CrossDomain.Testing.X11;

// Each measurement runs x11-probe once against Xvfb directly and once through the bridge, alternating, `repeat` times;
// medians, min-max, the ratio of the medians and the median (min-max) of the per-run ratios are printed. Usage: [--repeat N] [--round-trips N] [--puts N] [--size WxH]
// [--only rtt|core|sysv|fd] [--serve]. --serve prints both displays and this process's pid and keeps them up
// until stdin closes, for a profiler to count what each side does per round trip (x11-profile.sh).
int repeat = 7, roundTrips = 2000, puts = 40, width = 640, height = 480;
string? only = null;
bool serve = false;
if (!new BenchArguments("Vmm.X11Bench")
        .Int("--repeat", "N", v => repeat = v)
        .Int("--round-trips", "N", v => roundTrips = v)
        .Int("--puts", "N", v => puts = v)
        .Add("--only", "rtt|core|sysv|fd", text =>
        {
            if (text is not ("rtt" or "core" or "sysv" or "fd"))
            {
                return "one of rtt, core, sysv, fd";
            }

            only = text;
            return null;
        })
        .Flag("--serve", () => serve = true)
        .Add("--size", "WxH", text =>
        {
            string[] parts = text.Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int w) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int h)
                || w is < 1 or > 4096 || h is < 1 or > 4096)
            {
                return "WIDTHxHEIGHT, each from 1 to 4096";
            }

            (width, height) = (w, h);
            return null;
        })
        .TryParse(args))
{
    return 2;
}

using var xvfb = new XvfbServer();
if (xvfb.SkipReason is string reason || XProbe.SkipReason is string probeReason && (reason = probeReason) is not null)
{
    Console.Error.WriteLine($"x11-bench: {reason}");
    return 2;
}

using CrossDomainGuestGpu gpu = CrossDomainGuestGpu.ForX11Display(xvfb.Display, loggerFactory: Environment.GetEnvironmentVariable("X11BENCH_LOG") == "1" ? new StderrLogger() : null);
using X11Bridge bridge = X11Bridge.StartOnFreeDisplay(gpu);
double imageMiB = width * height * 4 / 1048576.0;
if (serve)
{
    Console.WriteLine($"direct {xvfb.Display} bridge {bridge.Display} bench-pid {Environment.ProcessId} probe {XProbe.Path}");
    Console.Out.Flush();
    Console.In.ReadToEnd();
    return 0;
}

Console.WriteLine($"x11-bench: Xvfb {xvfb.Display} direct, bridge {bridge.Display} (in-process virtio-gpu, cross-domain X11 channel); {repeat} runs each, alternating");
Console.WriteLine($"{"measure",-34} {"direct median",14} {"(min-max)",20} {"bridge median",14} {"(min-max)",20} {"bridge/direct",14} {"per-run ratio (min-max)",26}");

if (only is null or "rtt")
{
    Measure($"GetInputFocus round trips/s", "rtt", [$"{roundTrips}"], seconds => roundTrips / seconds);
}

foreach (string mode in new[] { "core", "sysv", "fd" }.Where(mode => only is null || only == mode))
{
    Measure($"PutImage {width}x{height} {mode} MiB/s", "put", [mode, $"{width}", $"{height}", $"{puts}"], seconds => puts * imageMiB / seconds);
}

if (!bridge.Faults.IsEmpty)
{
    Console.Error.WriteLine($"x11-bench: bridge faults: {string.Join(" | ", bridge.Faults)}");
    return 1;
}

return 0;

void Measure(string name, string verb, string[] arguments, Func<double, double> rate)
{
    var direct = new List<double>();
    var bridged = new List<double>();
    for (int run = 0; run < repeat; run++)
    {
        direct.Add(rate(Seconds(xvfb.Display, verb, arguments)));
        bridged.Add(rate(Seconds(bridge.Display!, verb, arguments)));
    }

    // Each run's bridge figure against the direct one taken just before it: the machine's load moves both alike.
    List<double> ratios = [.. bridged.Select((value, run) => value / direct[run])];
    double d = Median(direct), b = Median(bridged);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name,-34} {d,14:F1} {$"({direct.Min():F1}-{direct.Max():F1})",20} {b,14:F1} {$"({bridged.Min():F1}-{bridged.Max():F1})",20} {b / d,13:P0} {$"{Median(ratios):P0} ({ratios.Min():P0}-{ratios.Max():P0})",26}"));
}

static double Seconds(string display, string verb, string[] arguments)
{
    string output;
    try
    {
        output = XvfbServer.Run(display, XProbe.Path, [verb, .. arguments]).Output;
    }
    catch (InvalidOperationException exception)
    {
        throw new InvalidOperationException($"x11-probe {verb} on {display}: {exception.Message}", exception);
    }

    return double.Parse(output.Split(' ')[1], CultureInfo.InvariantCulture);
}

static double Median(List<double> values)
{
    double[] sorted = [.. values.Order()];
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}
