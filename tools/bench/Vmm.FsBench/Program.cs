using System.Globalization;
using Vmm.Bench;
using Vmm.FsBench;

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
if (!new BenchArguments("Vmm.FsBench")
        .Text("--virtiofsd", "PATH", v => virtiofsd = v)
        .Int("--file-mib", "N", v => fileMiB = v)
        .Int("--chunk-kib", "N (a multiple of 4)", v => chunkKiB = v, min: 4, max: 1024)
        .Int("--meta-ops", "N", v => metaOps = v)
        .Int("--repeat", "N", v => repeat = v)
        .Int("--depth", "N requests in flight", v => depth = v, max: 64)
        .Int("--queues", "N request queues", v => queues = v, max: 16)
        .Int("--virtiofsd-threads", "N (0: its default)", v => virtiofsdThreads = v, min: 0)
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
    foreach (bool ours in new[] { true, false })
    {
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
                await using (VhostUserBackend warmBackend = Backend.StartOurs(Path.Combine(work, "warm.sock"), warm, queues))
                {
                    Workloads.Run(warmBackend, warm, 4, chunkKiB, 2000);
                }

                warmed = true;
            }

            await using VhostUserBackend backend = ours ? Backend.StartOurs(socket, share, queues) : Backend.StartVirtiofsd(virtiofsd!, socket, share, virtiofsdThreads);
            if (!runs.TryGetValue(backend.Name, out List<IReadOnlyList<Result>>? list))
            {
                runs[backend.Name] = list = [];
            }

            list.Add(depth == 1 && queues == 1
                ? Workloads.Run(backend, share, fileMiB, chunkKiB, metaOps)
                : Concurrent.Run(backend, share, fileMiB, chunkKiB, metaOps, depth, queues));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}

List<string> backends = [.. runs.Keys];
Console.WriteLine($"virtio-fs over vhost-user, {queues} request queue(s), depth {depth} each, {fileMiB} MiB file, cache=never, {metaOps / 4} small files, C virtiofsd --thread-pool-size={virtiofsdThreads}; median of {repeat} (min..max)");
Console.Write($"{"workload",-22}");
foreach (string name in backends)
{
    Console.Write($"{name,32}");
}

Console.WriteLine(backends.Count == 2 ? $"{"ours / C",10}" : "");
IReadOnlyList<Result> first = runs[backends[0]][0];
for (int row = 0; row < first.Count; row++)
{
    Console.Write($"{first[row].Name,-22}");
    var medians = new List<double>();
    foreach (string name in backends)
    {
        double[] values = [.. runs[name].Select(r => r[row].Value).Order()];
        double median = values[values.Length / 2];
        medians.Add(median);
        Console.Write($"{$"{median:F0} {first[row].Unit} ({values[0]:F0}..{values[^1]:F0})",32}");
    }

    Console.WriteLine(medians.Count == 2 ? $"{medians[0] / medians[1],10:F2}" : "");
}

return 0;
