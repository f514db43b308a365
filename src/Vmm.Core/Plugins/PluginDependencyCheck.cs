using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;

namespace Vmm.Core.Plugins;

/// <summary>
/// Reads the references of a plugin's assemblies (metadata only, no plugin code runs) and refuses the plugin before
/// it loads when one of them would bind wrongly: a shared assembly newer than the host's, or an assembly that is
/// neither in the plugin's folder, nor shared, nor part of the framework.
/// </summary>
/// <remarks>
/// McMaster.NETCore.Plugins falls back silently in both cases (to a private copy of a shared assembly, whose types
/// would not match the host's, or to the host's own copy of an assembly it does not share). This check keeps the
/// host's guarantee that neither happens, with an error that names the plugin and the assembly.
/// </remarks>
internal static class PluginDependencyCheck
{
    private static readonly string s_frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location) ?? string.Empty;

    /// <summary>Walks the plugin's main assembly and every private assembly it reaches.</summary>
    /// <exception cref="PluginLoadException">
    /// A shared assembly is referenced in a version newer than the host's, or a referenced assembly is neither
    /// private, shared, nor framework.
    /// </exception>
    public static void Run(string pluginName, string mainAssemblyPath, AssemblyDependencyResolver resolver)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { mainAssemblyPath };
        var pending = new Queue<string>([mainAssemblyPath]);
        while (pending.TryDequeue(out string? path))
        {
            foreach (AssemblyName reference in References(path))
            {
                if (SharedAssemblies.IsShared(reference.Name))
                {
                    CheckShared(pluginName, reference);
                }
                else if (resolver.ResolveAssemblyToPath(reference) is { } privatePath)
                {
                    if (seen.Add(privatePath))
                    {
                        pending.Enqueue(privatePath);
                    }
                }
                else if (!IsFrameworkAssembly(reference))
                {
                    throw Missing(pluginName, reference);
                }
            }
        }
    }

    private static void CheckShared(string pluginName, AssemblyName requested)
    {
        Version? hostVersion = SharedAssemblies.HostAssembly(requested.Name!)?.GetName().Version;
        if (requested.Version is not null && hostVersion is not null && requested.Version > hostVersion)
        {
            throw new PluginLoadException(
                pluginName,
                $"Plugin '{pluginName}' was built against '{requested.Name}' {requested.Version}, newer than the host's {hostVersion}. "
                    + "Rebuild the plugin against the host's version, or update the host.");
        }
    }

    private static PluginLoadException Missing(string pluginName, AssemblyName reference)
        => s_hostAssemblies.Value.Contains(reference.Name!)
            ? new PluginLoadException(
                pluginName,
                $"Plugin '{pluginName}' needs '{reference.FullName}', which is neither in its folder nor shared by the host. "
                    + "Publish the plugin with its dependencies next to its assembly.")
            : new PluginLoadException(
                pluginName,
                $"Plugin '{pluginName}' is missing its dependency '{reference.FullName}'. "
                    + "Copy the plugin's whole build output (its dlls and .deps.json) into its folder.");

    /// <summary>The simple names of the assemblies the host was started with (its trusted platform assemblies).</summary>
    private static readonly Lazy<HashSet<string>> s_hostAssemblies = new(() =>
        ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase));

    private static IEnumerable<AssemblyName> References(string path)
    {
        using FileStream stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata)
        {
            throw new BadImageFormatException($"'{path}' has no .NET metadata.", path);
        }

        MetadataReader metadata = pe.GetMetadataReader();
        var names = new List<AssemblyName>(metadata.AssemblyReferences.Count);
        foreach (AssemblyReferenceHandle handle in metadata.AssemblyReferences)
        {
            names.Add(metadata.GetAssemblyReference(handle).GetAssemblyName());
        }

        return names;
    }

    private static bool IsFrameworkAssembly(AssemblyName assemblyName)
        => assemblyName.Name is { Length: > 0 } name
            && File.Exists(Path.Combine(s_frameworkDirectory, name + ".dll"));
}
