using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Vmm.Cli;
using Vmm.Core.Control;
using Vmm.Qemu;

namespace Vmm.Integration.Tests.Cli;

/// <summary>
/// <c>vmm run</c> end to end: the CLI loads the built-in virtio-rng plugin, picks the platform (auto → qemu on a
/// host whose KVM cannot run guest kernels), serves the device over vhost-user and boots Debian's kernel under QEMU.
/// </summary>
public sealed partial class VmmRunTests : IDisposable
{
    private static readonly TimeSpan s_bootLimit = TimeSpan.FromSeconds(120);
    private readonly string _work = Directory.CreateTempSubdirectory("vmm-run-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Run_guest_command_reads_our_rng_and_powers_off_exit_0()
    {
        (string kernel, string initrd) = RequireQemuAndGuestImage();
        byte[] source = new byte[1 << 20];
        new Random(7).NextBytes(source);
        await File.WriteAllBytesAsync(Path.Combine(_work, "entropy.bin"), source, TestContext.Current.CancellationToken);
        string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(
            "echo RNG-HEX:$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \\n')"));
        string config = Path.Combine(_work, "vm.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "machine": { "memory": "256M", "kernel": "{{kernel}}", "initrd": "{{initrd}}", "cmdline": "console=ttyS0 loglevel=4 vmm.cmd={{command}}" },
              "platform": "auto",
              "devices": [ { "id": "rng0", "plugin": "virtio-rng", "type": "virtio-rng", "options": { "source": "file", "path": "entropy.bin" } } ]
            }
            """, TestContext.Current.CancellationToken);

        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(s_bootLimit);
        int exitCode = await Program.RunAsync(["run", "--config", config], TextWriter.Synchronized(output), TextWriter.Synchronized(error), timeout.Token);

        string console = output.ToString();
        TestContext.Current.TestOutputHelper?.WriteLine($"exit {exitCode}\n--- stderr\n{error}\n--- console\n{console}");
        Assert.False(timeout.IsCancellationRequested, $"The guest did not power off within {s_bootLimit.TotalSeconds} s.");
        Assert.Equal(0, exitCode);
        Assert.Contains("vmm: qemu accelerator: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("VMM-GUEST: END rc=0", console, StringComparison.Ordinal);
        Match hex = RngHexLine().Match(console);
        Assert.True(hex.Success, "The guest printed no RNG-HEX line.");
        Assert.True(source.AsSpan().IndexOf(Convert.FromHexString(hex.Groups[1].Value)) >= 0, "The guest's bytes are not from our device's source.");
    }

    [Fact]
    public async Task Default_example_gives_a_shell_that_runs_what_stdin_types_exit_0()
    {
        RequireQemuAndGuestImage();
        string repository = RepositoryRoot();
        string vmm = Path.Combine(AppContext.BaseDirectory, "vmm.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = repository,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { vmm, "run", "--config", Path.Combine("examples", "default.json") })
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        var console = new StringBuilder();
        var prompt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task stdout = PumpAsync(process.StandardOutput, console, prompt);
        Task<string> stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            // Typed only once the shell is there: bytes sent earlier land in the UART while the kernel still resets it.
            await prompt.Task.WaitAsync(s_bootLimit, TestContext.Current.CancellationToken);
            await process.StandardInput.WriteAsync("echo hello-from-$((40+2)); poweroff -f\n");
            await process.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await stdout;
            TestContext.Current.TestOutputHelper?.WriteLine($"--- stderr\n{await stderr}\n--- console\n{console}");
        }

        Assert.Equal(0, process.ExitCode);
        Assert.Matches(new Regex(@"^hello-from-42\r?$", RegexOptions.Multiline), console.ToString());
        Assert.Contains("reboot: Power down", console.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Control_status_reports_the_qemu_vm_and_stop_powers_it_off_exit_0()
    {
        (string kernel, string initrd) = RequireQemuAndGuestImage();
        string socket = Path.Combine(_work, "ctl.sock");
        string config = await WriteSleepingConfigAsync(kernel, initrd, $$""", "control": { "socket": "{{socket}}" }""");
        using var run = new InProcessVmmRun(config, "SLEEPING", TestContext.Current.CancellationToken);
        await run.WaitForMarkerAsync(s_bootLimit, TestContext.Current.CancellationToken);

        await using (ControlClient client = await ControlClient.ConnectAsync(socket, TestContext.Current.CancellationToken))
        {
            ControlResponse status = await client.SendAsync("status", [], TestContext.Current.CancellationToken);
            Assert.True(status.Ok, status.Json);
            Assert.Equal("running", status.Result.GetProperty("state").GetString());
            Assert.Equal("qemu", status.Result.GetProperty("platform").GetString());
            Assert.True(status.Result.GetProperty("uptimeSeconds").GetDouble() > 0, status.Json);
            Assert.Equal("rng0", status.Result.GetProperty("devices")[0].GetProperty("id").GetString());
            Assert.True((await client.SendAsync("stop", [], TestContext.Current.CancellationToken)).Ok);
        }

        int exitCode = await run.Exit.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        run.WriteOutput();
        Assert.Equal(0, exitCode);
        Assert.False(File.Exists(socket), "The control socket was left behind.");
    }

    [Fact]
    public async Task Cancel_stops_qemu_cleanly_exit_130()
    {
        (string kernel, string initrd) = RequireQemuAndGuestImage();
        string config = await WriteSleepingConfigAsync(kernel, initrd, "");
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        using var run = new InProcessVmmRun(config, "SLEEPING", interrupt.Token);
        await run.WaitForMarkerAsync(s_bootLimit, TestContext.Current.CancellationToken);

        await interrupt.CancelAsync();
        int exitCode = await run.Exit.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        run.WriteOutput();
        Assert.Equal(130, exitCode);
        Assert.EndsWith("vmm: interrupted", run.Error.Trim(), StringComparison.Ordinal);
    }

    private async Task<string> WriteSleepingConfigAsync(string kernel, string initrd, string extra)
    {
        string command = Convert.ToBase64String(Encoding.UTF8.GetBytes("echo SLEEPING; sleep 600"));
        string config = Path.Combine(_work, "sleep.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "machine": { "memory": "128M", "kernel": "{{kernel}}", "initrd": "{{initrd}}", "cmdline": "console=ttyS0 loglevel=4 vmm.cmd={{command}}" },
              "platform": "qemu",
              "devices": [ { "id": "rng0", "plugin": "virtio-rng", "type": "virtio-rng" } ]{{extra}}
            }
            """, TestContext.Current.CancellationToken);
        return config;
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder text, TaskCompletionSource prompt)
    {
        char[] buffer = new char[4096];
        while (await reader.ReadAsync(buffer) is int read and > 0)
        {
            lock (text)
            {
                text.Append(buffer, 0, read);
                if (text.ToString().Contains("vmm-guest:/# ", StringComparison.Ordinal))
                {
                    prompt.TrySetResult();
                }
            }
        }

        prompt.TrySetException(new InvalidOperationException("vmm ended before the guest's shell prompt appeared."));
    }

    private static (string Kernel, string Initrd) RequireQemuAndGuestImage()
    {
        (_, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();

        // The ELF vmlinux next to vmlinuz boots twice as fast under TCG (PVH entry, no in-guest decompression).
        string vmlinux = Path.Combine(Path.GetDirectoryName(kernel)!, "vmlinux");
        return (File.Exists(vmlinux) ? vmlinux : kernel, initrd);
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "examples", "default.json")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No examples/default.json above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"RNG-HEX:([0-9a-f]{64})")]
    private static partial Regex RngHexLine();
}
