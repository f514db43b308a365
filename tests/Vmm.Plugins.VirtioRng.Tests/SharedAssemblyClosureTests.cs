using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Vmm.Contracts.Devices;
using Vmm.Core.Plugins;

namespace Vmm.Plugins.VirtioRng.Tests;

/// <summary>
/// Shared assemblies are shared by name: loading a plugin does not load the framework assemblies that the shared
/// assemblies' references reach (McMaster's default mode loads that whole closure, ~50 assemblies, for every plugin).
/// </summary>
public sealed class SharedAssemblyClosureTests
{
    /// <summary>Framework assemblies in that closure (checked below) that nothing in this test project uses.</summary>
    private static readonly string[] s_sentinels =
        ["System.Net.Quic", "System.Net.Http", "System.Private.Xml", "System.Resources.Writer", "System.Runtime.Serialization.Formatters", "System.Drawing.Primitives"];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Loading_a_plugin_leaves_the_shared_assemblies_reference_closure_unloaded(bool unloadable)
    {
        IReadOnlySet<string> closure = ReferenceClosure(SharedAssemblies.Types.Select(t => t.Assembly.Location).Distinct());
        Assert.All(s_sentinels, name => Assert.Contains(name, closure));
        string[] watched = [.. s_sentinels.Where(name => !IsLoaded(name))];
        if (watched.Length == 0)
        {
            Assert.Skip($"every sentinel assembly ({string.Join(", ", s_sentinels)}) was already loaded in this test process, so the check cannot tell");
        }

        var options = new PluginHostOptions { Unloadable = unloadable };
        options.SearchPaths.Add(TestPlugins.VirtioRng);
        using var host = new PluginHost(options);
        IDeviceFactory factory = TestPlugins.LoadRngFactory(host);
        using (TestPlugins.CreateDevice(host, factory, "{}"))
        {
        }

        string[] loaded = [.. watched.Where(IsLoaded)];
        Assert.True(loaded.Length == 0, $"loading the plugin loaded {string.Join(", ", loaded)} from the shared assemblies' reference closure");
    }

    private static bool IsLoaded(string name) => AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == name);

    /// <summary>The simple names every reference of <paramref name="roots"/> reaches, read from metadata (nothing is loaded).</summary>
    private static HashSet<string> ReferenceClosure(IEnumerable<string> roots)
    {
        string[] folders = [Path.GetDirectoryName(typeof(object).Assembly.Location)!, AppContext.BaseDirectory];
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Queue<string>(roots);
        while (pending.TryDequeue(out string? path))
        {
            using var pe = new PEReader(File.OpenRead(path));
            MetadataReader metadata = pe.GetMetadataReader();
            foreach (AssemblyReferenceHandle handle in metadata.AssemblyReferences)
            {
                string name = metadata.GetString(metadata.GetAssemblyReference(handle).Name);
                if (names.Add(name) && folders.Select(f => Path.Combine(f, name + ".dll")).FirstOrDefault(File.Exists) is { } file)
                {
                    pending.Enqueue(file);
                }
            }
        }

        return names;
    }
}
