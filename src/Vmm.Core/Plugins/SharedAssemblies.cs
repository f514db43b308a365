namespace Vmm.Core.Plugins;

/// <summary>
/// The assemblies a plugin shares with the host, so that contract types have one identity on both sides. Nothing
/// else is shared except the framework itself: a plugin's other dependencies come from its own folder.
/// </summary>
public static class SharedAssemblies
{
    /// <summary>The simple names of the shared assemblies.</summary>
    public static IReadOnlySet<string> Names { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "Vmm.Contracts",
        "Microsoft.Extensions.DependencyInjection.Abstractions",
        "Microsoft.Extensions.Logging.Abstractions",
        "Microsoft.Extensions.Diagnostics.Abstractions",
        "Microsoft.Extensions.Options",
        "Microsoft.Extensions.Primitives",
    };

    /// <summary>Whether the assembly named <paramref name="simpleName"/> is taken from the host.</summary>
    public static bool IsShared(string? simpleName) => simpleName is not null && Names.Contains(simpleName);
}
