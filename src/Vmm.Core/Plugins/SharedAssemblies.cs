using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Vmm.Contracts.Plugins;

namespace Vmm.Core.Plugins;

/// <summary>
/// The assemblies a plugin shares with the host, so that contract types have one identity on both sides. Nothing
/// else is shared except the framework itself: a plugin's other dependencies come from its own folder.
/// </summary>
/// <remarks>
/// Each type's assembly is preferred from the host by McMaster.NETCore.Plugins' load context (see
/// <see cref="PluginLoadContext"/>): one type per shared assembly, so that adding an assembly here is adding the type
/// that names it.
/// </remarks>
public static class SharedAssemblies
{
    /// <summary>One type from each shared assembly: what the plugin loader takes as its shared types.</summary>
    public static IReadOnlyList<Type> Types { get; } =
    [
        typeof(IVmmPlugin),
        typeof(IServiceCollection),
        typeof(ILogger),
        typeof(IMetricsBuilder),
        typeof(IOptions<>),
        typeof(StringValues),
    ];

    /// <summary>The simple names of the shared assemblies.</summary>
    public static IReadOnlySet<string> Names { get; } =
        Types.Select(t => t.Assembly.GetName().Name!).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the assembly named <paramref name="simpleName"/> is taken from the host.</summary>
    public static bool IsShared(string? simpleName) => simpleName is not null && Names.Contains(simpleName);

    /// <summary>The host's copy of the shared assembly <paramref name="simpleName"/>; null when it is not shared.</summary>
    public static System.Reflection.Assembly? HostAssembly(string simpleName)
        => Types.FirstOrDefault(t => string.Equals(t.Assembly.GetName().Name, simpleName, StringComparison.OrdinalIgnoreCase))?.Assembly;
}
