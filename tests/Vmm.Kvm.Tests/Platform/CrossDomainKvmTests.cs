using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Vmm.Kvm.Probing;
using Vmm.Core.Hosting;
using Xunit;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>
/// Cross-domain on the kvm platform with a real vCPU, started as a user starts it (<c>vmm run</c> with a config that
/// names the virtio-gpu and cross-domain plugins): the ring-3 driver tools/guest-payloads/elf/cross-domain-ring3.c
/// opens a cross-domain context over virtio-gpu with MSI-X, sends an X11 connection setup through the channel ring
/// and receives the host Xvfb's real setup reply, then destroys the context. With a virtio-fs DAX share beside it,
/// the payload also forwards a futex on a /dev/shm page as libkrun's X11 passthrough does for xshmfence, and a host
/// thread that maps the same page wakes the guest and is woken by it. The Linux guest path (the real virtio-gpu DRM
/// driver with CONTEXT_INIT, tools/guest-payloads/linux/cross-domain-x11.c) runs where guest ring 0 is native and is
/// skipped with the probe's figures elsewhere.
/// </summary>
public sealed partial class CrossDomainKvmTests
{
    private const int Width = 800;
    private const int Height = 600;

    // The futex page's layout, as the payload's header comment describes it.
    private const int WordOffset = 0x00;
    private const int GuestWatchingOffset = 0x40;
    private const int HostWaitingOffset = 0x44;
    private const int HostWokenOffset = 0x48;
    private const int SignalsOffset = 0x4C;
    private const int FutexWait = 0;
    private const int FutexWake = 1;
    private const int SysFutex = 202;

    [Fact]
    public async Task A_ring3_guest_reaches_the_host_x_server_through_a_cross_domain_context()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = KvmTestEnvironment.ElfPayloadPathOrSkip("cross-domain-ring3");
        using Xvfb xvfb = Xvfb.StartOrSkip($"{Width}x{Height}x24");
        string config = Path.Combine(Path.GetDirectoryName(payload)!, "cross-domain-ring3.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            machine = new { memory = "64M", vcpus = 1, kernel = payload, cmdline = "" },
            platform = "kvm",
            devices = new object[]
            {
                new { id = "gpu0", plugin = "virtio-gpu", type = "virtio-gpu" },
                new { id = "xd0", plugin = "cross-domain", type = "cross-domain", options = new { x11Display = xvfb.Display, waylandDisplay = "" } },
            },
        }), TestContext.Current.CancellationToken);

        (int exitCode, string output, string errors) = await RunVmmAsync(config);

        Assert.True(exitCode == 0, $"vmm exited with {exitCode}; stdout: {output}; stderr: {errors}");
        Assert.Contains("xd: capset 0: id 5 ", output, StringComparison.Ordinal);
        Assert.Contains("xd: context 1 on capset 5, rings attached, X11 channel open\n", output, StringComparison.Ordinal);
        // The reply is the host server's own: its vendor string and the screen size Xvfb was started with.
        Assert.Contains("xd: x11 success, protocol 11.0, ", output, StringComparison.Ordinal);
        Assert.Contains($"vendor '{xvfb.Vendor}', root ", output, StringComparison.Ordinal);
        Assert.Contains($" {Width}x{Height}\n", output, StringComparison.Ordinal);
        Assert.Contains("xd: context destroyed, parked poll returned; ", output, StringComparison.Ordinal);
        TestContext.Current.TestOutputHelper?.WriteLine(output);
    }

    [Fact]
    public async Task A_futex_on_a_dax_page_is_woken_across_the_boundary_both_ways()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = KvmTestEnvironment.ElfPayloadPathOrSkip("cross-domain-ring3");
        if (!Directory.Exists("/dev/shm"))
        {
            Assert.Skip("/dev/shm does not exist on this host.");
        }

        using Xvfb xvfb = Xvfb.StartOrSkip($"{Width}x{Height}x24");
        string share = Directory.CreateDirectory(Path.Combine("/dev/shm", "vmm-xshmfence-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            string file = Path.Combine(share, "futex-page");
            using (FileStream stream = new(file, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                stream.SetLength(2L << 20);
            }

            string config = Path.Combine(Path.GetDirectoryName(payload)!, "cross-domain-futex-ring3.json");
            await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
            {
                machine = new { memory = "64M", vcpus = 1, kernel = payload, cmdline = "" },
                platform = "kvm",
                devices = new object[]
                {
                    new { id = "gpu0", plugin = "virtio-gpu", type = "virtio-gpu" },
                    new { id = "xd0", plugin = "cross-domain", type = "cross-domain", options = new { x11Display = xvfb.Display, waylandDisplay = "" } },
                    new { id = "fs0", plugin = "virtio-fs", type = "virtio-fs", options = new { sharedDir = share, tag = "shm", dax = new { windowSize = 4L << 20 } } },
                },
            }), TestContext.Current.CancellationToken);

            using FutexPage page = new(file);
            Task<(int WatcherWakes, bool Woken)> host = Task.Run(() => HostSide(page), TestContext.Current.CancellationToken);
            (int exitCode, string output, string errors) = await RunVmmAsync(config);
            (int watcherWakes, bool woken) = await host;

            Assert.True(exitCode == 0, $"vmm exited with {exitCode}; stdout: {output}; stderr: {errors}");
            Assert.Contains("xd: x11 success, protocol 11.0, ", output, StringComparison.Ordinal);
            Assert.Contains("xd: futex-page exported as fs_id ", output, StringComparison.Ordinal);
            // Host to guest: a FUTEX_WAKE here woke the device's watcher (a waiter in the kernel), and the guest got
            // FUTEX_SIGNAL with the word the host stored.
            Assert.InRange(watcherWakes, 1, int.MaxValue);
            Assert.Contains("xd: futex 0x42: the host's wake came as FUTEX_SIGNAL, word 1\n", output, StringComparison.Ordinal);
            // Guest to host: this thread's FUTEX_WAIT returned because of a wake, which only the guest's FUTEX_SIGNAL
            // could send (the word did not change while it waited).
            Assert.True(woken, "the host waiter was never woken by the guest");
            Assert.Contains($"xd: futex 0x42: FUTEX_SIGNAL woke the host waiter ({page.Read(SignalsOffset)} sent)\n", output, StringComparison.Ordinal);
            Assert.Contains("xd: futex destroyed, page unmapped\n", output, StringComparison.Ordinal);
            Assert.Contains("xd: context destroyed, parked poll returned; ", output, StringComparison.Ordinal);
            TestContext.Current.TestOutputHelper?.WriteLine(output);
        }
        finally
        {
            Directory.Delete(share, recursive: true);
        }
    }

    [Fact]
    public async Task A_linux_guest_reaches_the_host_x_server_through_the_drm_drivers_cross_domain_context()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string kernel = GuestImageFiles.PathOrSkip("vmlinuz");
        string initrd = GuestImageFiles.PathOrSkip("initrd.img");
        if (!KvmCapabilityProbe.TryMeasure(out KvmProbeResult? probe, out string? reason))
        {
            Assert.Skip("The ring-0/ring-3 probe could not run: " + reason);
        }

        if (!probe!.RunsGuestKernelNatively)
        {
            Assert.Skip($"This host's KVM runs guest ring 0 emulated ({probe}); a Linux boot needs native ring 0 (hardware KVM).");
        }

        using Xvfb xvfb = Xvfb.StartOrSkip($"{Width}x{Height}x24");
        string command = Convert.ToBase64String(Encoding.UTF8.GetBytes("cross-domain-x11 /dev/dri/card0"));
        string config = Path.Combine(Directory.CreateTempSubdirectory("vmm-cross-domain-linux-").FullName, "vm.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            machine = new
            {
                memory = "512M",
                vcpus = 1,
                kernel,
                initrd,
                cmdline = $"console=ttyS0 reboot=k panic=-1 acpi=off pci=conf1 i8042.noaux i8042.nomux i8042.dumbkbd nokaslr loglevel=4 vmm.cmd={command}",
            },
            platform = "kvm",
            devices = new object[]
            {
                new { id = "gpu0", plugin = "virtio-gpu", type = "virtio-gpu" },
                new { id = "xd0", plugin = "cross-domain", type = "cross-domain", options = new { x11Display = xvfb.Display, waylandDisplay = "" } },
            },
        }), TestContext.Current.CancellationToken);

        // Without ACPI, the guest's final poweroff halts invisibly: vmm is stopped once the guest reported.
        (_, string output, string errors) = await RunVmmAsync(config, until: "VMM-GUEST: END");

        Assert.True(output.Contains("VMM-GUEST: END rc=0", StringComparison.Ordinal), $"stdout: {output}; stderr: {errors}");
        Assert.Contains("xd: capsets 0x20\n", output, StringComparison.Ordinal);
        Assert.Contains($"vendor '{xvfb.Vendor}', root ", output, StringComparison.Ordinal);
        Assert.Contains($" {Width}x{Height}\n", output, StringComparison.Ordinal);
    }

    /// <summary>The host thread of the futex half: wakes the device's watcher, then waits to be woken by the guest.</summary>
    private static unsafe (int WatcherWakes, bool Woken) HostSide(FutexPage page)
    {
        nint word = page.Address + WordOffset;
        long deadline = Environment.TickCount64 + 60_000;
        while (page.Read(GuestWatchingOffset) == 0)
        {
            if (Environment.TickCount64 > deadline)
            {
                return (0, false);
            }

            Thread.Sleep(1);
        }

        // As the X server's xshmfence_trigger: store, then wake every waiter; repeated until the watcher was in the
        // kernel to be woken (the first store alone may reach it as a changed value instead).
        page.Write(WordOffset, 1);
        int watcherWakes = 0;
        while (watcherWakes == 0 && Environment.TickCount64 < deadline)
        {
            watcherWakes = (int)Futex(word, FutexWake, int.MaxValue, null);
            Thread.Sleep(watcherWakes == 0 ? 1 : 0);
        }

        page.Write(HostWaitingOffset, 1);
        bool woken = false;
        while (!woken && Environment.TickCount64 < deadline)
        {
            Timespec slice = new() { Nanoseconds = 50_000_000 };
            woken = Futex(word, FutexWait, 1, &slice) == 0;
        }

        page.Write(HostWokenOffset, woken ? 1u : 0u);
        return (watcherWakes, woken);
    }

    /// <summary>The first page of the shared file, mapped MAP_SHARED here (the futex key is the file's, as the device's).</summary>
    private sealed unsafe class FutexPage : IDisposable
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;

        public FutexPage(string path)
        {
            _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
            _view = _file.CreateViewAccessor(0, 4096);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            Address = (nint)pointer;
        }

        public nint Address { get; }

        public uint Read(int offset) => Volatile.Read(ref *(uint*)(Address + offset));

        public void Write(int offset, uint value) => Volatile.Write(ref *(uint*)(Address + offset), value);

        public void Dispose()
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }

    private static unsafe long Futex(nint address, int operation, int value, Timespec* timeout)
        => Syscall(SysFutex, address, operation, value, (nint)timeout, 0, 0);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint address, int operation, int value, nint timeout, nint address2, uint bitset);

    /// <summary>Runs <c>vmm run</c> on <paramref name="config"/> to its end, or until stdout holds <paramref name="until"/>.</summary>
    private static async Task<(int ExitCode, string Output, string Errors)> RunVmmAsync(string config, string? until = null)
    {
        ProcessStartInfo start = new("dotnet", [Path.Combine(AppContext.BaseDirectory, "vmm.dll"), "run", "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using Process vmm = Process.Start(start)!;
        vmm.StandardInput.Close();
        StringBuilder output = new();
        TaskCompletionSource seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Task reader = Task.Run(async () =>
        {
            char[] buffer = new char[4096];
            int read;
            while ((read = await vmm.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (output)
                {
                    output.Append(buffer, 0, read);
                    if (until is not null && output.ToString().Contains(until, StringComparison.Ordinal))
                    {
                        seen.TrySetResult();
                    }
                }
            }
        });
        Task<string> stderr = vmm.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        TimeSpan limit = TimeSpan.FromSeconds(until is null ? 90 : 180);
        Task exited = vmm.WaitForExitAsync(TestContext.Current.CancellationToken);
        Task first = await Task.WhenAny(exited, seen.Task, Task.Delay(limit, TestContext.Current.CancellationToken));
        bool timedOut = first != exited && first != seen.Task;
        if (!vmm.HasExited)
        {
            vmm.Kill(entireProcessTree: true);
        }

        await vmm.WaitForExitAsync(TestContext.Current.CancellationToken);
        await reader;
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        if (timedOut)
        {
            throw new TimeoutException($"vmm did not finish in {limit.TotalSeconds} s; stdout so far: {text}");
        }

        return (vmm.ExitCode, text, await stderr);
    }

    /// <summary>Xvfb on a display it picks itself (<c>-displayfd</c>), and the vendor string its clients see.</summary>
    private sealed class Xvfb : IDisposable
    {
        private readonly Process _process;

        private Xvfb(Process process, string display, string vendor)
        {
            _process = process;
            Display = display;
            Vendor = vendor;
        }

        public string Display { get; }

        public string Vendor { get; }

        public static Xvfb StartOrSkip(string screen)
        {
            string? xvfb = ExecutableSearch.FindOnPath("Xvfb");
            string? xdpyinfo = ExecutableSearch.FindOnPath("xdpyinfo");
            if (xvfb is null || xdpyinfo is null)
            {
                Assert.Skip("Xvfb and xdpyinfo are needed (tools/install-deps.sh installs xvfb and x11-utils)");
            }

            Process process = Process.Start(new ProcessStartInfo(xvfb, ["-displayfd", "1", "-nolisten", "tcp", "-screen", "0", screen])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            process.ErrorDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            Task<string?> line = process.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(30)) || !int.TryParse(line.Result, out int number))
            {
                process.Kill();
                process.Dispose();
                throw new InvalidOperationException("Xvfb did not report its display number within 30 s");
            }

            // The vendor as a direct client sees it, to compare with what came through the guest.
            var info = new ProcessStartInfo(xdpyinfo) { RedirectStandardOutput = true };
            info.Environment["DISPLAY"] = $":{number}";
            using Process query = Process.Start(info)!;
            string text = query.StandardOutput.ReadToEnd();
            query.WaitForExit();
            string vendor = text.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("vendor string:", StringComparison.Ordinal))["vendor string:".Length..].Trim();
            return new Xvfb(process, $":{number}", vendor);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }

            _process.Dispose();
        }
    }
}
