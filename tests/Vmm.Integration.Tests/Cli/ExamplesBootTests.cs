using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Cli;
using Vmm.Testing;

namespace Vmm.Integration.Tests.Cli;

/// <summary>
/// Boots every example in examples/ (but the invalid ones) with <c>vmm run</c> and the built-in plugins on the qemu
/// platform, as a user would, with these changes so that it runs unattended beside other tests: the guest runs a
/// check and powers off instead of opening a shell, its console output goes to the serial line last, the control
/// socket and VNC port are private to the test, and a relative shared folder is resolved against examples/. The
/// check shows each example's devices from inside the guest.
/// </summary>
public sealed class ExamplesBootTests : IDisposable
{
    private static readonly TimeSpan s_bootLimit = TimeSpan.FromSeconds(150);
    private const string GuestCheck =
        "echo DRM:$(ls /sys/class/drm 2>/dev/null | tr '\\n' ' '); " +
        "echo INPUT:$(grep '^N: Name=' /proc/bus/input/devices 2>/dev/null | grep -ci virtio); " +
        "echo SHARE:$(cat /mnt/share/hello.txt 2>/dev/null); " +
        "echo RNG:$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null); " +
        "echo IVSHMEM:$(cat /sys/bus/pci/devices/*/device 2>/dev/null | grep -c 0x1110)";

    private readonly string _work = Directory.CreateTempSubdirectory("vmm-examples-").FullName;

    private readonly List<string> _shmFiles = [];

    public void Dispose()
    {
        Directory.Delete(_work, recursive: true);
        foreach (string file in _shmFiles)
        {
            File.Delete(file);
        }
    }

    public static TheoryData<string> Examples() =>
        new(Directory.EnumerateFiles(Path.Combine(SourceTree.Root, "examples"), "*.json")
            .Select(Path.GetFileName)
            .Where(n => !n!.StartsWith("invalid", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Example_boots_and_its_devices_are_seen_by_the_guest(string name)
    {
        TestVm.QemuAndGuestImageOrSkip();
        string examples = Path.Combine(SourceTree.Root, "examples");
        JsonObject config = JsonNode.Parse(
            await File.ReadAllTextAsync(Path.Combine(examples, name), TestContext.Current.CancellationToken),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        Unattend(config, examples);
        string file = Path.Combine(_work, name);
        await File.WriteAllTextAsync(file, config.ToJsonString(), TestContext.Current.CancellationToken);

        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(s_bootLimit);
        int exitCode = await Program.RunAsync(["run", "--config", file], TextWriter.Synchronized(output), TextWriter.Synchronized(error), timeout.Token);

        string console = output.ToString();
        TestContext.Current.TestOutputHelper?.WriteLine($"exit {exitCode}\n--- config\n{config}\n--- stderr\n{error}\n--- console\n{console}");
        Assert.False(timeout.IsCancellationRequested, $"{name}: the guest did not power off within {s_bootLimit.TotalSeconds} s.");
        Assert.Equal(0, exitCode);
        Assert.Contains("VMM-GUEST: END rc=0", console, StringComparison.Ordinal);
        string[] types = [.. config["devices"]!.AsArray().Select(d => (string)d!["type"]!)];
        if (types.Contains("virtio-gpu"))
        {
            Assert.Contains("card0", Line(console, "DRM:"), StringComparison.Ordinal);
        }

        if (types.Contains("virtio-input"))
        {
            Assert.Equal($"INPUT:{types.Count(t => t == "virtio-input")}", Line(console, "INPUT:"));
        }

        if (types.Contains("virtio-fs"))
        {
            Assert.StartsWith("SHARE:Hello from the host.", Line(console, "SHARE:"), StringComparison.Ordinal);
        }

        if (types.Contains("ivshmem"))
        {
            Assert.Equal($"IVSHMEM:{types.Count(t => t == "ivshmem")}", Line(console, "IVSHMEM:"));
        }

        if (types.Contains("virtio-rng"))
        {
            Assert.Contains("virtio_rng", Line(console, "RNG:"), StringComparison.Ordinal);
        }
    }

    private void Unattend(JsonObject config, string examples)
    {
        JsonObject machine = config["machine"]!.AsObject();
        // The check's output must reach the serial console (the last console= wins), not only a screen.
        string[] words = ((string?)machine["cmdline"] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] kept = [.. words.Where(w => w is not ("vmm.shell=1" or "console=ttyS0" or "console=tty0"))];
        string consoles = words.Contains("console=tty0") ? "console=tty0 console=ttyS0" : "console=ttyS0";
        string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(GuestCheck));
        machine["cmdline"] = string.Join(' ', [consoles, .. kept, "loglevel=4", "vmm.cmd=" + command]);
        if (config["control"] is JsonObject control)
        {
            control["socket"] = Path.Combine(_work, "ctl.sock");
        }

        foreach (JsonObject device in config["devices"]!.AsArray().Select(d => d!.AsObject()))
        {
            if (device["options"] is not JsonObject options)
            {
                continue;
            }

            if (options["port"] is not null)
            {
                options["port"] = VmmCtl.FreePort();
            }

            if (options["path"] is not null && (string?)device["type"] is "ivshmem" or "kvmfr-export")
            {
                // Shared-memory files of its own, so a test never meets another run's (or a user's) file.
                string shm = $"/dev/shm/vmm-example-{Guid.NewGuid():N}";
                _shmFiles.Add(shm);
                options["path"] = shm;
            }

            if (options["uds"] is not null)
            {
                // The vsock device's socket of its own, as the control socket.
                options["uds"] = Path.Combine(_work, "vsock.sock");
            }

            if ((string?)options["sharedDir"] is { } shared)
            {
                options["sharedDir"] = Path.GetFullPath(shared, examples);
            }
        }
    }

    private static string Line(string console, string prefix) =>
        console.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) ?? $"(no {prefix} line)";
}
