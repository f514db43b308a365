using System.Globalization;
using Vmm.FsBench;

// virtio-fs side by side: the same C# vhost-user front-end drives our device and the C virtiofsd over the same
// kind of share, one FUSE request in flight (latency-bound, like a single-threaded guest process).
string? virtiofsd = null;
int fileMiB = 64;
int chunkKiB = 128;
int metaOps = 20000;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--virtiofsd":
            virtiofsd = args[++i];
            break;
        case "--file-mib":
            fileMiB = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--chunk-kib":
            chunkKiB = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--meta-ops":
            metaOps = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        default:
            Console.Error.WriteLine("usage: Vmm.FsBench [--virtiofsd PATH] [--file-mib N] [--chunk-kib N] [--meta-ops N]");
            return 2;
    }
}

if (chunkKiB is < 4 or > 1024 || chunkKiB % 4 != 0)
{
    Console.Error.WriteLine("--chunk-kib must be a multiple of 4 from 4 to 1024.");
    return 2;
}

var columns = new List<(string Backend, IReadOnlyList<(string Name, string Value)> Results)>();
foreach (bool ours in new[] { true, false })
{
    if (!ours && (virtiofsd is null || !File.Exists(virtiofsd)))
    {
        Console.Error.WriteLine("No --virtiofsd given (tools/guest-image/get-virtiofsd.sh fetches it): measuring our device only.");
        continue;
    }

    string work = Directory.CreateTempSubdirectory("vmm-fsbench-").FullName;
    try
    {
        string share = Directory.CreateDirectory(Path.Combine(work, "share")).FullName;
        string socket = Path.Combine(work, "fs.sock");
        await using Backend backend = ours ? Backend.StartOurs(socket, share) : Backend.StartVirtiofsd(virtiofsd!, socket, share);
        if (ours)
        {
            // Warm up the JIT on a small run so the measured one is steady state.
            string warm = Directory.CreateDirectory(Path.Combine(work, "warm")).FullName;
            string warmSocket = Path.Combine(work, "warm.sock");
            await using (Backend warmBackend = Backend.StartOurs(warmSocket, warm))
            {
                Workloads.Run(warmBackend, warm, 4, chunkKiB, 2000);
            }
        }

        columns.Add((backend.Name, Workloads.Run(backend, share, fileMiB, chunkKiB, metaOps)));
    }
    finally
    {
        Directory.Delete(work, recursive: true);
    }
}

Console.WriteLine($"virtio-fs over vhost-user, queue depth 1, {fileMiB} MiB file, cache=never");
Console.Write($"{"workload",-26}");
foreach ((string backend, _) in columns)
{
    Console.Write($"{backend,20}");
}

Console.WriteLine();
for (int row = 0; row < columns[0].Results.Count; row++)
{
    Console.Write($"{columns[0].Results[row].Name,-26}");
    foreach ((_, IReadOnlyList<(string Name, string Value)> results) in columns)
    {
        Console.Write($"{results[row].Value,20}");
    }

    Console.WriteLine();
}

return 0;
