using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Kvm.Boot;
using Vmm.Kvm.Platform;
using Vmm.Testing.Diagnostics;
using Xunit;

namespace Vmm.Kvm.Tests.Platform;

public sealed class KvmPlatformTests
{
    [Fact]
    public async Task VmmRunBootsTheRingThreeRngPayloadAndPrintsOurDevicesBytes()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = KvmTestEnvironment.ElfPayloadPathOrSkip("rng-ring3");
        (string source, string hex) = PlatformTestSpecs.RngSource();
        string config = Path.Combine(Path.GetDirectoryName(source)!, "rng-ring3.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            machine = new { memory = "64M", vcpus = 1, kernel = payload, cmdline = "" },
            platform = "kvm",
            devices = new[] { new { id = "rng0", plugin = "virtio-rng", type = "virtio-rng", options = new { source = "file", path = source } } },
        }), TestContext.Current.CancellationToken);

        (int exitCode, string output, string errors) = await VmmProcess.RunAsync(config);

        Assert.True(exitCode == 0, $"vmm exited with {exitCode}; stdout: {output}; stderr: {errors}");
        Assert.Contains("rng: virtio-rng at 00:01.0", output, StringComparison.Ordinal);
        Assert.Contains("rng: msi-x vector 0x40 fired", output, StringComparison.Ordinal);
        Assert.Contains($"rng: 16 bytes: {hex}\n", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task CtrlCOrSigtermStopsVmmRunCleanly(string signal)
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = PlatformTestSpecs.Ring3Payload([0x66, 0xBA, 0xF8, 0x03, 0xB0, 0x52, 0xEE, 0xEB, 0xFE]); // print 'R', spin
        string config = Path.Combine(Path.GetDirectoryName(payload)!, "spin.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { machine = new { memory = "16M", kernel = payload, cmdline = "" }, platform = "kvm" }), TestContext.Current.CancellationToken);
        // A background job of a non-interactive shell (as CI may run us) starts with SIGINT ignored, and programs,
        // the .NET runtime included, keep it so. A user's Ctrl-C comes with the default disposition: give vmm that.
        using (Process probe = Process.Start(new ProcessStartInfo("env", ["--default-signal=INT", "true"]) { RedirectStandardError = true })!)
        {
            await probe.WaitForExitAsync(TestContext.Current.CancellationToken);
            if (probe.ExitCode != 0)
            {
                Assert.Skip("env --default-signal (coreutils 8.31 or newer) is needed to give vmm SIGINT's default disposition.");
            }
        }

        ProcessStartInfo start = new("env", ["--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "vmm.dll"), "run", "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using Process vmm = Process.Start(start)!;
        Task<string> stderr = vmm.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        char[] first = new char[1];
        int read = await vmm.StandardOutput.ReadAsync(first, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal((1, 'R'), (read, first[0]));

        using (Process kill = Process.Start("kill", ["-" + signal, vmm.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        try
        {
            await vmm.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            // Say where it hung (a dump of its threads) before failing.
            string dump = await DescribeThreadsAsync(vmm.Id);
            vmm.Kill(entireProcessTree: true);
            Assert.Fail($"vmm did not exit within 30 s of SIG{signal}. stderr: {await stderr}\n{dump}");
        }

        Assert.True(vmm.ExitCode == 130, $"exit code {vmm.ExitCode}; stderr: {await stderr}");
        Assert.Contains("interrupted", await stderr, StringComparison.Ordinal);
    }

    private static async Task<string> DescribeThreadsAsync(int pid)
    {
        var lines = new System.Text.StringBuilder();
        try
        {
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                string name = (await File.ReadAllTextAsync(Path.Combine(task, "comm"))).Trim();
                string wchan = await File.ReadAllTextAsync(Path.Combine(task, "wchan"));
                string state = File.ReadLines(Path.Combine(task, "status")).FirstOrDefault(l => l.StartsWith("State:", StringComparison.Ordinal)) ?? "";
                lines.Append(CultureInfo.InvariantCulture, $"{Path.GetFileName(task)} {name} {state} wchan={wchan}\n");
            }
        }
        catch (IOException exception)
        {
            lines.Append(exception.Message);
        }

        return lines.ToString();
    }

    [Fact]
    public void RngPayloadKicksThroughAnIoeventfdAfterMovingTheBar()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = KvmTestEnvironment.ElfPayloadPathOrSkip("rng-ring3");
        (string source, string hex) = PlatformTestSpecs.RngSource();
        using ConsoleCapture console = new();
        using KvmMachine machine = KvmMachine.Create(system, PlatformTestSpecs.Spec(payload, rngSourceFile: source), NullLoggerFactory.Instance, new KvmPlatformOptions { ConsoleOutput = console });

        machine.Start(null);
        KvmVmExit? exit = machine.Vm.WaitForExit(TimeSpan.FromSeconds(30));

        Assert.True(exit is { Kind: KvmVmExitKind.GuestExit, Code: 0 }, $"{exit}; console: {console.Text}");
        Assert.Contains($"rng: 16 bytes: {hex}", console.Text, StringComparison.Ordinal);
        Assert.Equal(BootEntryMode.Ring3, machine.Boot.Mode);
        Assert.Equal(0xD000_0000ul, machine.Pci.GetDecodedBarAddress(1, 0));
        Assert.True(machine.NotifySignalCount >= 1, "The doorbell did not arrive through the ioeventfd at the moved BAR.");
    }

    [Fact]
    public async Task PvhPayloadBootsThroughThe32BitEntry()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = KvmTestEnvironment.ElfPayloadPathOrSkip("pvh-hello");
        using ConsoleCapture console = new();
        KvmPlatform platform = new(new KvmPlatformOptions { ConsoleOutput = console });

        VmRunResult result = await platform.RunAsync(PlatformTestSpecs.Spec(payload), PlatformTestSpecs.Context(), TestContext.Current.CancellationToken);

        Assert.True(result.Outcome == VmRunOutcome.Stopped, result.Message);
        Assert.Equal("hello\n", console.Text);
    }

    [Fact]
    public async Task I8042ResetEndsTheRunAsGuestRequestedReset()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = PlatformTestSpecs.Ring3Payload([0xB0, 0xFE, 0xE6, 0x64, 0xEB, 0xFE]); // mov al,0xFE; out 0x64,al; jmp $

        VmRunResult result = await new KvmPlatform().RunAsync(PlatformTestSpecs.Spec(payload), PlatformTestSpecs.Context(), TestContext.Current.CancellationToken);

        Assert.Equal(VmRunOutcome.Stopped, result.Outcome);
        Assert.Equal("guest requested reset", result.Message);
    }

    [Fact]
    public async Task GuestFaultFailsTheRunWithTheVector()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = PlatformTestSpecs.Ring3Payload([0xF4]); // hlt in ring 3: #GP

        VmRunResult result = await new KvmPlatform().RunAsync(PlatformTestSpecs.Spec(payload), PlatformTestSpecs.Context(), TestContext.Current.CancellationToken);

        Assert.Equal(VmRunOutcome.GuestFailed, result.Outcome);
        Assert.Contains("vector 13", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellationStopsASpinningGuest()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = PlatformTestSpecs.Ring3Payload([0xEB, 0xFE]);
        using CancellationTokenSource cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));

        Task<VmRunResult> run = new KvmPlatform().RunAsync(PlatformTestSpecs.Spec(payload), PlatformTestSpecs.Context(), cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task StopCommandEndsTheRunCleanly()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = PlatformTestSpecs.Ring3Payload([0xEB, 0xFE]);
        VmRunContext context = PlatformTestSpecs.Context();

        Task<VmRunResult> run = new KvmPlatform().RunAsync(PlatformTestSpecs.Spec(payload), context, TestContext.Current.CancellationToken);
        IControlCommand? stop = null;
        while (!context.ControlCommands.TryGet("stop", out stop))
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.True(context.ControlCommands.TryGet("status", out IControlCommand? status));
        Assert.Contains("running", (await status.ExecuteAsync(default, TestContext.Current.CancellationToken))!.ToJsonString(), StringComparison.Ordinal);
        await stop.ExecuteAsync(default, TestContext.Current.CancellationToken);
        VmRunResult result = await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(VmRunOutcome.Stopped, result.Outcome);
    }

    [Fact]
    public async Task UnbootableKernelFailsTheRunWithTheLoadersMessage()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string kernel = Path.Combine(Directory.CreateTempSubdirectory("vmm-kvm-bad-").FullName, "zeros");
        await File.WriteAllBytesAsync(kernel, new byte[8192], TestContext.Current.CancellationToken);

        VmRunResult result = await new KvmPlatform().RunAsync(PlatformTestSpecs.Spec(kernel), PlatformTestSpecs.Context(), TestContext.Current.CancellationToken);

        Assert.Equal(VmRunOutcome.VmmFailed, result.Outcome);
        Assert.Contains("neither a bzImage", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExitsMapToRunOutcomes()
    {
        Assert.Equal(VmRunOutcome.GuestFailed, KvmPlatform.ToResult(new KvmVmExit(KvmVmExitKind.GuestExit, "x", 3)).Outcome);
        Assert.Equal(VmRunOutcome.Stopped, KvmPlatform.ToResult(new KvmVmExit(KvmVmExitKind.GuestShutdown, "triple fault")).Outcome);
        VmRunResult internalError = KvmPlatform.ToResult(new KvmVmExit(KvmVmExitKind.PlatformError, "KVM internal error on vCPU 0: suberror 1"));
        Assert.Equal(VmRunOutcome.VmmFailed, internalError.Outcome);
        Assert.Contains("suberror 1", internalError.Message, StringComparison.Ordinal);
    }
}
