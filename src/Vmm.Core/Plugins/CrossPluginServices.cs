using System.Collections;
using Vmm.Contracts.Files;
using Vmm.Contracts.Gpu;

namespace Vmm.Core.Plugins;

/// <summary>
/// A device's services when one plugin extends another plugin's device: the device's own plugin container, plus
/// what the other plugins of the VM register for the extension contracts in <see cref="SharedContracts"/> (a
/// cross-domain plugin's <see cref="IGpuContextType"/> reaches virtio-gpu's factory this way). Each plugin keeps its
/// own container; only <c>IEnumerable&lt;T&gt;</c> of a shared contract is joined, the device's own plugin first.
/// virtio-fs's <see cref="IFileExportTable"/> reaches the cross-domain device the same way (futex forwarding).
/// </summary>
public sealed class CrossPluginServices : IServiceProvider
{
    private readonly IServiceProvider _own;
    private readonly IServiceProvider[] _others;

    /// <summary>Joins <paramref name="own"/> with the shared-contract registrations of <paramref name="others"/>.</summary>
    public CrossPluginServices(IServiceProvider own, IEnumerable<IServiceProvider> others)
    {
        ArgumentNullException.ThrowIfNull(own);
        ArgumentNullException.ThrowIfNull(others);
        _own = own;
        _others = [.. others];
    }

    /// <summary>The contracts one plugin registers for another plugin's devices to use (types from Vmm.Contracts, so identity holds across load contexts).</summary>
    public static IReadOnlyList<Type> SharedContracts { get; } = [typeof(IGpuContextType), typeof(IFileExportTable)];

    /// <summary>
    /// The services for a device of <paramref name="pluginName"/>: its own container joined with those of the other
    /// loaded plugins in <paramref name="vmPlugins"/> (the plugins the VM's config names), so a plugin extends a
    /// device only in a VM that asks for it.
    /// </summary>
    public static IServiceProvider? Join(PluginHost host, string pluginName, IEnumerable<string> vmPlugins)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(vmPlugins);
        if (!host.TryGetServices(pluginName, out IServiceProvider? own))
        {
            return null;
        }

        List<IServiceProvider> others = [];
        foreach (string name in vmPlugins.Distinct(StringComparer.Ordinal))
        {
            if (name != pluginName && host.TryGetServices(name, out IServiceProvider? services))
            {
                others.Add(services);
            }
        }

        return others.Count == 0 ? own : new CrossPluginServices(own, others);
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (!serviceType.IsGenericType || serviceType.GetGenericTypeDefinition() != typeof(IEnumerable<>)
            || serviceType.GenericTypeArguments[0] is not Type contract || !SharedContracts.Contains(contract))
        {
            return _own.GetService(serviceType);
        }

        var joined = new List<object>();
        foreach (IServiceProvider provider in (IServiceProvider[])[_own, .. _others])
        {
            if (provider.GetService(serviceType) is IEnumerable services)
            {
                joined.AddRange(services.Cast<object>());
            }
        }

        var result = Array.CreateInstance(contract, joined.Count);
        for (int i = 0; i < joined.Count; i++)
        {
            result.SetValue(joined[i], i);
        }

        return result;
    }
}
