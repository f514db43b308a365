using System.Globalization;
using Vmm.Bench;
using Vmm.FsBench;
using Vmm.Plugins.VirtioFs;

// virtio-fs side by side: the same C# vhost-user front-end drives our device and the C virtiofsd over the same
// kind of share, one FUSE request in flight (latency-bound, like a single-threaded guest process).
string? virtiofsd = null;
int fileMiB = 64;
int chunkKiB = 128;
int metaOps = 20000;
int repeat = 3;
int depth = 1;
int queues = 1;
int virtiofsdThreads = 0;
int pollMicroseconds = VirtioFsOptions.DefaultRequestPollMicroseconds;
int? alsoPollMicroseconds = null;
if (!new BenchArguments("Vmm.FsBench")
        .Text("--virtiofsd", "PATH", v => virtiofsd = v)
        .Int("--file-mib", "N", v => fileMiB = v)
        .Int("--chunk-kib", "N (a multiple of 4)", v => chunkKiB = v, min: 4, max: 1024)
        .Int("--meta-ops", "N", v => metaOps = v)
        .Int("--repeat", "N", v => repeat = v)
        .Int("--depth", "N requests in flight", v => depth = v, max: 64)
        .Int("--queues", "N request queues", v => queues = v, max: 16)
        .Int("--virtiofsd-threads", "N (0: its default)", v => virtiofsdThreads = v, min: 0)
        .Int("--poll-us", "N our request threads' longest busy-poll (0: off)", v => pollMicroseconds = v, min: 0, max: VirtioFsDeviceFactory.MaxRequestPollMicroseconds)
        .Int("--also-poll-us", "N a second configuration of our device in the same run (before/after)", v => alsoPollMicroseconds = v, min: 0, max: VirtioFsDeviceFactory.MaxRequestPollMicroseconds)
        .TryParse(args))
{
    return 2;
}

if (chunkKiB is < 4 or > 1024 || chunkKiB % 4 != 0)
{
    Console.Error.WriteLine("--chunk-kib must be a multiple of 4 from 4 to 1024.");
    return 2;
}

// Each repetition measures every back-end once, alternating, so drift hits both; the table shows medians.
var runs = new Dictionary<string, List<IReadOnlyList<Result>>>();
bool warmed = false;
for (int repetition = 0; repetition < repeat; repetition++)
{
    // Ours with each poll window asked for, and the C daemon; the order alternates from one repetition to the next.
    List<int?> sides = [pollMicroseconds, .. alsoPollMicroseconds is { } also ? new int?[] { also } : [], null];
    if (repetition % 2 == 1)
    {
        sides.Reverse();
    }

    foreach (int? poll in sides)
    {
        bool ours = poll is not null;
        if (!ours && (virtiofsd is null || !File.Exists(virtiofsd)))
        {
            if (repetition == 0)
            {
                Console.Error.WriteLine("No --virtiofsd given (tools/guest-image/get-virtiofsd.sh fetches it): measuring our device only.");
            }

            continue;
        }

        string work = Directory.CreateTempSubdirectory("vmm-fsbench-").FullName;
        try
        {
            string share = Directory.CreateDirectory(Path.Combine(work, "share")).FullName;
            string socket = Path.Combine(work, "fs.sock");
            if (ours && !warmed)
            {
                // Warm up the JIT on a small run so the measured ones are steady state.
                string warm = Directory.CreateDirectory(Path.Combine(work, "warm")).FullName;
                await using (VhostUserBackend warmBackend = Backend.StartOurs(Path.Combine(work, "warm.sock"), warm, queues, pollMicroseconds))
                {
                    Workloads.Run(warmBackend, warm, 4, chunkKiB, 2000);
                }

                warmed = true;
            }

            await using VhostUserBackend backend = ours ? Backend.StartOurs(socket, share, queues, poll!.Value) : Backend.StartVirtiofsd(virtiofsd!, socket, share, virtiofsdThreads);
            if (!runs.TryGetValue(backend.Name, out List<IReadOnlyList<Result>>? list))
            {
                runs[backend.Name] = list = [];
            }

            try
            {
                list.Add(depth == 1 && queues == 1
                    ? Workloads.Run(backend, share, fileMiB, chunkKiB, metaOps)
                    : Concurrent.Run(backend, share, fileMiB, chunkKiB, metaOps, depth, queues));
            }
            catch (InvalidOperationException) when (backend.HasExited)
            {
                // A request that got no answer because the daemon died: say so, not only "no answer".
                Console.Error.WriteLine($"{backend.Name} exited with code {backend.ExitCode} during the run (its stderr is above; a seccomp kill shows in the kernel log as audit type=1326).");
                throw;
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}

List<string> backends = [.. runs.Keys];
string? reference = backends.FirstOrDefault(name => !name.StartsWith("vmm", StringComparison.Ordinal));
Console.WriteLine($"virtio-fs over vhost-user, {queues} request queue(s), depth {depth} each, {fileMiB} MiB file, cache=never, {metaOps / 4} small files, C virtiofsd --thread-pool-size={virtiofsdThreads}; median of {repeat} (min..max); cpu: user+sys of front-end and back-end per request, median");
Console.Write($"{"workload",-30}");
foreach (string name in backends)
{
    Console.Write($"{name,34}{"cpu µs/req",12}");
}

foreach (string name in backends.Where(n => n != reference && reference is not null))
{
    Console.Write($"{(name == backends[0] && backends.Count == 2 ? "ours / C" : $"{name[4..]} / C"),18}");
}

Console.WriteLine();
IReadOnlyList<Result> first = runs[backends[0]][0];
for (int row = 0; row < first.Count; row++)
{
    Console.Write($"{first[row].Name,-30}");
    var medians = new Dictionary<string, double>();
    foreach (string name in backends)
    {
        double[] values = [.. runs[name].Select(r => r[row].Value).Order()];
        double[] cpu = [.. runs[name].Select(r => r[row].CpuMicrosPerRequest).Order()];
        medians[name] = values[values.Length / 2];
        Console.Write($"{$"{medians[name]:F0} {first[row].Unit} ({values[0]:F0}..{values[^1]:F0})",34}{cpu[cpu.Length / 2],12:F1}");
    }

    foreach (string name in backends.Where(n => n != reference && reference is not null))
    {
        Console.Write($"{medians[name] / medians[reference!],18:F2}");
    }

    Console.WriteLine();
}

return 0;
