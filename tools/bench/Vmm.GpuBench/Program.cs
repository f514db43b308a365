using System.Globalization;
using Vmm.Bench;
using Vmm.GpuBench;

// virtio-gpu side by side: the same C# vhost-user front-end drives our device and QEMU's vhost-user-gpu back-end,
// one TRANSFER_TO_HOST_2D + RESOURCE_FLUSH pair in flight, each frame answered and shown on a display before the
// next. Both back-ends stay connected; each run times one slice of each back-end and of a plain copy back to back
// (order alternating), so load from other processes hits the pair alike and the per-run ratio stays meaningful.
// The blob cases show a guest blob (RESOURCE_CREATE_BLOB + SET_SCANOUT_BLOB) instead: our device only, as QEMU's
// vhost-user-gpu offers no RESOURCE_BLOB.
string? qemuBackend = null;
const int Width = 1920;
const int Height = 1080;
double seconds = 1;
int repeat = 9;
int interleave = 5;
bool oneAtATime = false;
bool only2D = false;
bool onlyBlobs = false;
if (!new BenchArguments("Vmm.GpuBench")
        .Text("--vhost-user-gpu", "PATH", v => qemuBackend = v)
        .Positive("--seconds", "S per slice", v => seconds = v)
        .Int("--repeat", "N runs", v => repeat = v)
        .Int("--interleave", "K parts per slice", v => interleave = v)
        .Flag("--one-at-a-time", () => oneAtATime = true)
        .Flag("--2d-only", () => only2D = true)
        .Flag("--blob-only", () => onlyBlobs = true)
        .TryParse(args))
{
    return 2;
}

Damage[] cases =
[
    new("full frame 1920x1080", 0, 0, Width, Height),
    new("10% damage 1920x108", 0, (Height - (Height / 10)) / 2, Width, Height / 10),
    new("blob full 1920x1080", 0, 0, Width, Height, Blob: true),
    new("blob 10% 1920x108", 0, (Height - (Height / 10)) / 2, Width, Height / 10, Blob: true),
];
if (only2D)
{
    cases = [.. cases.Where(c => !c.Blob)];
}

if (onlyBlobs)
{
    cases = [.. cases.Where(c => c.Blob)];
}

var duration = TimeSpan.FromSeconds(seconds);
bool withQemu = qemuBackend is not null && File.Exists(qemuBackend);
if (!withQemu)
{
    Console.Error.WriteLine($"QEMU's vhost-user-gpu back-end not found ({qemuBackend ?? "no --vhost-user-gpu given"}; tools/install-deps.sh --with-vhost-user-gpu installs it): measuring our device only.");
}

string work = Directory.CreateTempSubdirectory("vmm-gpubench-").FullName;
var backends = new List<Backend>();
var sessions = new List<BenchSession>();
// Null where a back-end cannot run a case (QEMU's and blobs).
var frameRates = new List<double>?[withQemu ? 4 : 3, cases.Length];
// Per case: one span, by rows, and per run the faster of the two (the copy a frame is compared with).
var copyRates = new List<double>[cases.Length];
var spanCopyRates = new List<double>[cases.Length];
var rowCopyRates = new List<double>[cases.Length];
try
{
    backends.Add(Backend.StartOurs(Path.Combine(work, "vmm.sock"), Width, Height, mirrorBacking: true));
    // The same device keeping a host copy of 2D resources (mirrorBacking off): what the mirror buys, in the same run.
    backends.Add(Backend.StartOurs(Path.Combine(work, "vmm-copy.sock"), Width, Height, mirrorBacking: false));
    // The default device with the 2D backing and the blob in one-page entries that never follow each other in guest memory.
    backends.Add(Backend.StartOurs(Path.Combine(work, "vmm-scattered.sock"), Width, Height, mirrorBacking: true, "vmm virtio-gpu, scattered"));
    if (withQemu)
    {
        backends.Add(Backend.StartQemu(qemuBackend!, Path.Combine(work, "qemu.sock")));
    }

    for (int b = 0; b < backends.Count; b++)
    {
        sessions.Add(BenchSession.Open(backends[b], Width, Height, seed: b + 1, oneAtATime, scattered: b == 2));
    }

    for (int c = 0; c < cases.Length; c++)
    {
        copyRates[c] = [];
        spanCopyRates[c] = [];
        rowCopyRates[c] = [];
        int rowBytes = cases[c].Width * GpuDriver.BytesPerPixel;
        var spanCopy = new MemoryCopy(cases[c].Bytes, rowBytes, byRows: false);
        var rowCopy = new MemoryCopy(cases[c].Bytes, rowBytes, byRows: true);
        // Blob cases: back-ends with blobs, and the host-copy variant of ours only where it differs (2D); the scattered
        // one shows a blob over scattered pages.
        int[] running = [.. Enumerable.Range(0, sessions.Count).Where(b => !cases[c].Blob || (sessions[b].HasBlobs && b != 1))];
        foreach (int b in running)
        {
            frameRates[b, c] = [];
            sessions[b].Target(cases[c]);
        }

        // The contenders of this case: the back-ends that run it, then the plain copies.
        Func<TimeSpan, double>[] contenders = [.. running.Select(b => (Func<TimeSpan, double>)sessions[b].Measure), spanCopy.Measure, rowCopy.Measure];
        for (int run = 1; run <= repeat; run++)
        {
            // Each run's slice is cut into parts taken in turn (order alternating), so a burst of load from other
            // processes on this shared machine hits every contender of the run alike.
            double[] sums = new double[contenders.Length];
            for (int part = 0; part < interleave; part++)
            {
                for (int k = 0; k < contenders.Length; k++)
                {
                    int which = (run + part) % 2 == 1 ? k : contenders.Length - 1 - k;
                    sums[which] += contenders[which](duration / interleave);
                }
            }

            for (int k = 0; k < running.Length; k++)
            {
                frameRates[running[k], c]!.Add(sums[k] / interleave);
            }

            spanCopyRates[c].Add(sums[^2] / interleave);
            rowCopyRates[c].Add(sums[^1] / interleave);
            copyRates[c].Add(Math.Max(sums[^2], sums[^1]) / interleave);
            Console.Error.Write($"{cases[c].Name}, run {run}:");
            foreach (int b in running)
            {
                Console.Error.Write($"  {sessions[b].Backend.Name} {frameRates[b, c]![^1]:F0} frames/s");
            }

            Console.Error.WriteLine($"  plain copy {spanCopyRates[c][^1] * cases[c].Bytes / (1 << 20):F0} MiB/s one span, {rowCopyRates[c][^1] * cases[c].Bytes / (1 << 20):F0} by rows");
        }

        foreach (int b in running)
        {
            sessions[b].CheckShown();
        }
    }
}
finally
{
    foreach (BenchSession session in sessions)
    {
        session.Dispose();
    }

    foreach (Backend backend in backends)
    {
        await backend.DisposeAsync();
    }

    Directory.Delete(work, recursive: true);
}

string[] names = [.. sessions.Select(s => s.Backend.Name)];
Console.WriteLine($"virtio-gpu over vhost-user, {Width}x{Height} B8G8R8X8 (2D resource, or a guest blob on SET_SCANOUT_BLOB); per frame TRANSFER_TO_HOST_2D + RESOURCE_FLUSH ({(oneAtATime ? "flush posted after the transfer's answer" : "posted together")}), both answered and the frame shown on the display before the next");
Console.WriteLine($"median [min-max] of {repeat} runs of {seconds:F1} s per back-end (in {interleave} interleaved parts); commands/s = 2 x frames/s; MiB/s = damaged bytes x frames/s");
Console.WriteLine("vmm / x and x / copy: median [min-max] of the ratio within each run (slices back to back); vmm = ours with mirrorBacking (default), host copy = ours with it off, scattered = ours (default) with the 2D backing and the blob one page an entry, no two entries adjacent");
Console.Write($"{"workload",-22}{"metric",-12}");
foreach (string name in names)
{
    Console.Write($"{name,30}");
}

for (int b = 1; b < names.Length; b++)
{
    Console.Write($"{"vmm / " + ShortName(names[b]),28}");
}

Console.WriteLine();
for (int c = 0; c < cases.Length; c++)
{
    foreach ((string metric, double scale) in new[] { ("frames/s", 1.0), ("commands/s", 2.0), ("MiB/s", cases[c].Bytes / (double)(1 << 20)) })
    {
        Console.Write($"{cases[c].Name,-22}{metric,-12}");
        for (int b = 0; b < names.Length; b++)
        {
            Console.Write($"{Summary(frameRates[b, c], scale, "F0"),30}");
        }

        for (int b = 1; b < names.Length; b++)
        {
            Console.Write($"{Summary(Ratios(frameRates[0, c], frameRates[b, c]), 1, "F2"),28}");
        }

        Console.WriteLine();
    }
}

Console.WriteLine();
Console.WriteLine("frame bandwidth against one plain memory copy of the same bytes (Span.CopyTo between two arrays in this process:");
Console.WriteLine("one span, or row by row; x / copy is against the faster of the two in each run)");
Console.Write($"{"workload",-22}{"copy MiB/s, one span",-24}{"copy MiB/s, by rows",-24}");
foreach (string name in names)
{
    Console.Write($"{name + " / copy",36}");
}

Console.WriteLine();
for (int c = 0; c < cases.Length; c++)
{
    double mib = cases[c].Bytes / (double)(1 << 20);
    Console.Write($"{cases[c].Name,-22}{Summary(spanCopyRates[c], mib, "F0"),-24}{Summary(rowCopyRates[c], mib, "F0"),-24}");
    for (int b = 0; b < names.Length; b++)
    {
        Console.Write($"{Summary(Ratios(frameRates[b, c], copyRates[c]), 1, "F3"),36}");
    }

    Console.WriteLine();
}

return 0;

static string ShortName(string name) => name.StartsWith("QEMU", StringComparison.Ordinal) ? "QEMU" : name[(name.IndexOf(", ", StringComparison.Ordinal) + 2)..];

static List<double>? Ratios(List<double>? numerators, List<double>? denominators)
    => numerators is null || denominators is null ? null : [.. numerators.Zip(denominators, (a, b) => a / b)];

static double Median(List<double> values)
{
    double[] sorted = [.. values.Order()];
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static string Summary(List<double>? values, double scale, string format)
{
    if (values is null)
    {
        return "-";
    }

    string Format(double value) => (value * scale).ToString(format, CultureInfo.InvariantCulture);
    return $"{Format(Median(values))} [{Format(values.Min())}-{Format(values.Max())}]";
}
