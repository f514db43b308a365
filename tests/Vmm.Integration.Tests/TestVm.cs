using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Vmm.Qemu;
using Xunit;

namespace Vmm.Integration.Tests;

/// <summary>What a guest run under QEMU gave: the platform's result, the serial console, and whether the time limit ended it.</summary>
internal sealed record GuestRun(VmRunResult Result, string Output, bool TimedOut);

/// <summary>Shared bits for running a VM spec on a platform in tests.</summary>
internal static class TestVm
{
    public static VmRunContext Context() => new(NullLoggerFactory.Instance, new NoPlugins(), new ControlCommandRegistry());

    /// <summary>QEMU 10 and the built guest image, or the test is skipped saying which is missing.</summary>
    public static (QemuBinary Qemu, string Kernel, string Initrd) QemuAndGuestImageOrSkip()
    {
        if (!QemuBinary.TryLocate(null, out QemuBinary? qemu, out string? qemuProblem))
        {
            Assert.Skip(qemuProblem);
        }

        if (!GuestImage.TryFind(out string? kernel, out string? initrd, out string? imageProblem))
        {
            Assert.Skip(imageProblem);
        }

        return (qemu, kernel, initrd);
    }

    /// <summary>
    /// Runs <paramref name="spec"/> under QEMU with TCG, the serial console captured, for at most
    /// <paramref name="limit"/>; writes the console to the test output.
    /// </summary>
    public static async Task<GuestRun> RunUnderQemuAsync(VmSpec spec, Version qemuVersion, TimeSpan limit)
    {
        using var console = new StringWriter();
        TextWriter serial = TextWriter.Synchronized(console);
        var platform = new QemuPlatform(new QemuPlatformOptions { Accelerator = QemuAccelerator.Tcg, SerialOutput = serial });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(limit);
        VmRunResult result = await platform.RunAsync(spec, Context(), timeout.Token);
        string output = console.ToString();
        TestContext.Current.TestOutputHelper?.WriteLine($"QEMU {qemuVersion}, guest console:\n{output}");
        return new GuestRun(result, output, timeout.IsCancellationRequested);
    }

    private sealed class NoPlugins : IPluginCatalog
    {
        public IReadOnlyList<PluginInfo> Plugins => [];

        public bool TryGetFactory(string pluginName, string deviceType, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IDeviceFactory? factory)
        {
            factory = null;
            return false;
        }
    }
}
