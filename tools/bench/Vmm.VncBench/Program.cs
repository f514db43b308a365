using System.Globalization;
using Vmm.Bench;
using Vmm.Contracts.Display;
using Vmm.VncBench;

// VNC encoders side by side: our VNC sink and TigerVNC's Xvnc hold the same 1920x1080 frames, one C# RFB client
// per server and encoding asks for incremental updates and reads them. Each run times one slice per server back to
// back (order alternating), so the per-run ratio is taken under the same load.
const int Width = 1920;
const int Height = 1080;
string? xvnc = File.Exists("/usr/bin/Xvnc") ? "/usr/bin/Xvnc" : null;
double seconds = 1;
int repeat = 9;
int zlibLevel = 1;
if (!new BenchArguments("Vmm.VncBench")
        .Text("--xvnc", "PATH", v => xvnc = v)
        .Positive("--seconds", "S per slice", v => seconds = v)
        .Int("--repeat", "N runs", v => repeat = v)
        .Int("--xvnc-zlib-level", "0-9", v => zlibLevel = v, min: 0, max: 9)
        .TryParse(args))
{
    return 2;
}

bool withXvnc = xvnc is not null && File.Exists(xvnc);
if (!withXvnc)
{
    Console.Error.WriteLine($"Xvnc not found ({xvnc ?? "no --xvnc given"}; tools/install-deps.sh --with-vnc-reference installs it): measuring our server only.");
}

var frames = new Frames(Width, Height);
(string Name, int Encoding, DamageRect Damage)[] cases =
[
    ("Raw full frame", RfbClient.Raw, new DamageRect(0, 0, Width, Height)),
    ("Raw 10% damage", RfbClient.Raw, new DamageRect(0, (Height - (Height / 10)) / 2, Width, Height / 10)),
    ("ZRLE full frame", RfbClient.Zrle, new DamageRect(0, 0, Width, Height)),
    ("ZRLE 10% damage", RfbClient.Zrle, new DamageRect(0, (Height - (Height / 10)) / 2, Width, Height / 10)),
];
var duration = TimeSpan.FromSeconds(seconds);
var servers = new List<IFrameServer>();
var results = new List<Result>[withXvnc ? 2 : 1, cases.Length];
try
{
    servers.Add(new OurServer(Width, Height, frames[0]));
    if (withXvnc)
    {
        servers.Add(XvncServer.Start(xvnc!, Width, Height, zlibLevel, frames[0]));
    }

    for (int c = 0; c < cases.Length; c++)
    {
        var slices = new List<Slice>();
        var clients = new List<RfbClient>();
        try
        {
            foreach (IFrameServer server in servers)
            {
                var client = new RfbClient(server.EndPoint, cases[c].Encoding);
                clients.Add(client);
                var slice = new Slice(server, client, frames);
                slice.Start();
                slice.Measure(cases[c].Damage, TimeSpan.FromSeconds(Math.Min(0.3, seconds)));
                slices.Add(slice);
            }

            for (int s = 0; s < slices.Count; s++)
            {
                results[s, c] = [];
            }

            for (int run = 1; run <= repeat; run++)
            {
                for (int k = 0; k < slices.Count; k++)
                {
                    int s = run % 2 == 1 ? k : slices.Count - 1 - k;
                    results[s, c].Add(slices[s].Measure(cases[c].Damage, duration));
                }

                Console.Error.Write($"{cases[c].Name}, run {run}:");
                for (int s = 0; s < slices.Count; s++)
                {
                    Result r = results[s, c][^1];
                    Console.Error.Write($"  {slices[s].Server.Name} {r.FramesPerSecond:F0} frames/s ({r.UpdatesPerSecond:F0} update-only, {r.BytesPerFrame / 1024:F0} KiB)");
                }

                Console.Error.WriteLine();
            }

            foreach (Slice slice in slices)
            {
                using var checker = new RfbClient(slice.Server.EndPoint, RfbClient.Raw);
                slice.Check(cases[c].Damage, checker.ReadFramebuffer());
            }
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }
    }
}
finally
{
    servers.ForEach(server => server.Dispose());
}

string[] names = [.. servers.Select(s => s.Name)];
Console.WriteLine($"VNC servers fed the same {Width}x{Height} frames ({Frames.Count} variants of a synthetic desktop, every damaged pixel changes each frame); one C# RFB client per server, 32-bit pixels");
Console.WriteLine($"per frame: the server is given the frame (ours: IDisplaySink.OnFrame; Xvnc: X11 PutImage + round trip), then an incremental FramebufferUpdateRequest and the whole update read");
if (withXvnc)
{
    Console.WriteLine($"Xvnc parameters: {string.Join(' ', XvncServer.Parameters(zlibLevel))}");
}

Console.WriteLine($"median [min-max] of {repeat} runs of {seconds:F1} s per server; end-to-end = draw + update; update-only = request to last byte; ratios within each run");
Console.Write($"{"case",-18}{"metric",-22}");
foreach (string name in names)
{
    Console.Write($"{name,32}");
}

Console.WriteLine(withXvnc ? $"{"vmm/Xvnc",24}" : string.Empty);
for (int c = 0; c < cases.Length; c++)
{
    foreach ((string metric, Func<Result, double> pick, string format) in new (string, Func<Result, double>, string)[]
    {
        ("end-to-end frames/s", r => r.FramesPerSecond, "F0"),
        ("update-only frames/s", r => r.UpdatesPerSecond, "F0"),
        ("KiB/frame on the wire", r => r.BytesPerFrame / 1024, "F0"),
    })
    {
        Console.Write($"{cases[c].Name,-18}{metric,-22}");
        for (int s = 0; s < names.Length; s++)
        {
            Console.Write($"{Summary([.. results[s, c].Select(pick)], format),32}");
        }

        Console.WriteLine(withXvnc
            ? $"{Summary([.. results[0, c].Zip(results[1, c], (a, b) => pick(a) / pick(b))], "F2"),24}"
            : string.Empty);
    }
}

return 0;

static double Median(List<double> values)
{
    double[] sorted = [.. values.Order()];
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static string Summary(List<double> values, string format)
{
    string Format(double value) => value.ToString(format, CultureInfo.InvariantCulture);
    return $"{Format(Median(values))} [{Format(values.Min())}-{Format(values.Max())}]";
}
