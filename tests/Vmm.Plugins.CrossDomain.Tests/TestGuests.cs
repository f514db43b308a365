using Vmm.Plugins.VirtioGpu;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>A guest over the plugin's context type built from settings (the plugin's internals are visible here).</summary>
internal static class TestGuests
{
    public static CrossDomainGuest Create(CrossDomainSettings settings, VirtioGpuOptions? options = null) => new(new CrossDomainContextType(settings), options);
}
