using Microsoft.Extensions.Logging;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Vmm.Kvm.Platform;
using Vmm.Testing.Diagnostics;

namespace Vmm.Soak;

/// <summary>
/// One cycle on the KVM platform, the way <c>vmm run</c> does it: a fresh run context, <see cref="VmRunner"/> (control
/// socket included), every device created, attached and torn down; the ring-3 payload drives virtio-rng through
/// PCI, MSI-X and the notify thread, prints the bytes and exits with 0.
/// </summary>
internal sealed class KvmCycle(VmSpec spec, IPluginCatalog plugins, VmRouters routers, ILoggerFactory loggerFactory) : ISoakCycle
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    public string Name => "kvm (ring-3 payload, every device)";

    public void Run(int cycle)
    {
        ConsoleCapture console = new();
        KvmPlatform platform = new(new KvmPlatformOptions { ConsoleOutput = console });
        VmRunContext context = new(loggerFactory, plugins, new ControlCommandRegistry()) { Routers = routers };
        using CancellationTokenSource timeout = new(s_timeout);
        VmRunResult result = VmRunner.RunAsync(spec, platform, context, timeout.Token).GetAwaiter().GetResult();
        if (result.Outcome != VmRunOutcome.Stopped || !console.Text.Contains("rng: 16 bytes", StringComparison.Ordinal))
        {
            throw new SoakFailedException($"cycle {cycle}: the VM ended {result.Outcome} ({result.Message}); console: {console.Text}");
        }
    }
}
