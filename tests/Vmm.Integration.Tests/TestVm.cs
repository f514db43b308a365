using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;

namespace Vmm.Integration.Tests;

/// <summary>Shared bits for running a VM spec on a platform in tests.</summary>
internal static class TestVm
{
    public static VmRunContext Context() => new(NullLoggerFactory.Instance, new NoPlugins(), new ControlCommandRegistry());

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
