using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Vmm.Soak;

// vmm-soak kvm|inprocess [--cycles N] [--every N] [--warmup N] --plugins DIR --payload ELF
// Runs N VM start/stop cycles in this process and compares fds, threads, mappings and the managed heap after the
// last cycle with a baseline taken after the warm-up (JIT, lazy statics, pools). Exit 0: back at the baseline.
if (args.Length == 0 || args[0] is not ("kvm" or "inprocess"))
{
    Console.Error.WriteLine("usage: vmm-soak kvm|inprocess [--cycles N] [--every N] [--warmup N] --plugins DIR --payload ELF");
    return 2;
}

string mode = args[0];
int cycles = IntOption("--cycles", 1000);
int every = IntOption("--every", 100);
int warmup = IntOption("--warmup", 50);
string plugins = Path.GetFullPath(StringOption("--plugins") ?? VmConfig.DefaultPluginDirectory);
string payload = Path.GetFullPath(StringOption("--payload") ?? throw new ArgumentException("--payload ELF is required"));

string folder = Directory.CreateTempSubdirectory("vmm-soak-").FullName;
try
{
    return Soak();
}
finally
{
    // The share, the sockets and the IVSHMEM files are the runner's, whatever the outcome.
    Directory.Delete(folder, recursive: true);
    foreach (string file in SoakConfig.SharedMemoryFiles)
    {
        File.Delete(file);
    }
}

int Soak()
{
    ILoggerFactory loggerFactory = NullLoggerFactory.Instance;
    using VmRouters routers = new(loggerFactory);
    PluginHostOptions hostOptions = new() { LoggerFactory = loggerFactory };
    hostOptions.BuiltInSearchPaths.Add(plugins);
    foreach (var service in routers.SharedServices)
    {
        hostOptions.SharedServices.Add(service);
    }

    using PluginHost host = new(hostOptions);
    host.Discover();
    host.LoadAll();
    VmConfigResult config = VmConfig.Load(SoakConfig.Write(folder, payload), _ => host, [plugins]);
    if (config.Spec is not VmSpec spec)
    {
        foreach (ConfigError error in config.Errors)
        {
            Console.Error.WriteLine($"vmm-soak: {error}");
        }

        return 2;
    }

    ISoakCycle cycle = mode == "kvm"
        ? new KvmCycle(spec, host, routers, loggerFactory)
        : new InProcessCycle(spec, host, routers, loggerFactory);
    Console.WriteLine($"soak: {cycle.Name}: {cycles} cycles after {warmup} warm-up, {spec.Devices.Count} devices, .NET {Environment.Version}");
    for (int i = 0; i < warmup; i++)
    {
        cycle.Run(-1 - i);
    }

    ResourceSnapshot baseline = ResourceSnapshot.Take();
    Console.WriteLine(ResourceSnapshot.Header);
    Console.WriteLine(baseline.Row(0, TimeSpan.Zero));
    Stopwatch clock = Stopwatch.StartNew();
    ResourceSnapshot end = baseline;
    try
    {
        for (int i = 1; i <= cycles; i++)
        {
            cycle.Run(i);
            if (i % every == 0 || i == cycles)
            {
                end = ResourceSnapshot.Take();
                Console.WriteLine(end.Row(i, clock.Elapsed));
            }
        }
    }
    catch (SoakFailedException ex)
    {
        Console.Error.WriteLine($"vmm-soak: FAILED: {ex.Message}");
        return 1;
    }

    (bool back, IReadOnlyList<string> lines) = Baseline.Compare(baseline, end);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"soak: {cycles} cycles in {clock.Elapsed.TotalSeconds:F1} s ({clock.Elapsed.TotalMilliseconds / cycles:F1} ms a cycle); after the last one, against the baseline:"));
    foreach (string line in lines)
    {
        Console.WriteLine(line);
    }

    Console.WriteLine(back ? "soak: PASS: back at the baseline" : "soak: FAIL: something grew");
    return back ? 0 : 1;
}

int IntOption(string name, int fallback) =>
    StringOption(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? StringOption(string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
