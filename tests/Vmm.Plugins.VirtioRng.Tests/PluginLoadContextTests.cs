using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;
using Vmm.Contracts.Devices;
using Vmm.Core.Plugins;

namespace Vmm.Plugins.VirtioRng.Tests;

public sealed class PluginLoadContextTests
{
    private static string RngAssembly => Path.Combine(TestPlugins.VirtioRng, "Vmm.Plugins.VirtioRng.dll");

    [Fact]
    public void A_shared_assembly_comes_from_the_host()
    {
        using var context = new PluginLoadContext("virtio-rng", RngAssembly);

        Assembly contracts = context.LoadFromAssemblyName(typeof(IDeviceFactory).Assembly.GetName());

        Assert.Same(typeof(IDeviceFactory).Assembly, contracts);
        Assert.True(context.Context.IsCollectible);
    }

    [Fact]
    public void A_context_that_is_not_unloadable_maps_the_plugin_from_its_file_and_cannot_reload()
    {
        using var context = new PluginLoadContext("virtio-rng", RngAssembly, unloadable: false);

        Assembly main = context.LoadMainAssembly();

        Assert.False(context.IsUnloadable);
        Assert.False(context.Context.IsCollectible);
        Assert.Same(context.Context, AssemblyLoadContext.GetLoadContext(main));
        Assert.Equal(RngAssembly, main.Location);
        Assert.Throws<InvalidOperationException>(context.Reload);
    }

    [Fact]
    public void An_unloadable_context_reads_the_plugin_into_memory()
    {
        using var context = new PluginLoadContext("virtio-rng", RngAssembly, unloadable: true);

        Assembly main = context.LoadMainAssembly();

        Assert.True(context.Context.IsCollectible);
        Assert.Same(context.Context, AssemblyLoadContext.GetLoadContext(main));
        Assert.Equal(string.Empty, main.Location);
    }

    [Fact]
    public void The_shared_type_list_names_exactly_the_shared_assemblies()
        => Assert.Equal(
            ["Microsoft.Extensions.DependencyInjection.Abstractions", "Microsoft.Extensions.Diagnostics.Abstractions", "Microsoft.Extensions.Logging.Abstractions",
                "Microsoft.Extensions.Options", "Microsoft.Extensions.Primitives", "Vmm.Contracts"],
            SharedAssemblies.Names.Order(StringComparer.Ordinal));

    [Fact]
    public void A_shared_assembly_newer_than_the_hosts_fails_loudly_before_the_plugin_loads()
    {
        using var folder = new TempPluginFolder();
        string copy = folder.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        string assembly = Path.Combine(copy, "Vmm.Plugins.VirtioRng.dll");
        SetReferencedMajorVersion(assembly, "Vmm.Contracts", 9);

        PluginLoadException e = Assert.Throws<PluginLoadException>(() => new PluginLoadContext("virtio-rng", assembly));

        Assert.Equal("virtio-rng", e.PluginName);
        Assert.Contains(
            $"Plugin 'virtio-rng' was built against 'Vmm.Contracts' 9.0.0.0, newer than the host's {typeof(IDeviceFactory).Assembly.GetName().Version}",
            e.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_assembly_that_is_not_shared_is_not_handed_to_the_plugin()
    {
        using var folder = new TempPluginFolder();
        string copy = folder.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        string assembly = Path.Combine(copy, "Vmm.Plugins.VirtioRng.dll");
        RenameToHostCore(assembly, "Vmm.Contracts");

        PluginLoadException e = Assert.Throws<PluginLoadException>(() => new PluginLoadContext("virtio-rng", assembly));

        Assert.Contains("Plugin 'virtio-rng' needs 'Vmm.Core", e.Message, StringComparison.Ordinal);
        Assert.Contains("neither in its folder nor shared by the host", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_path_must_be_absolute()
        => Assert.Throws<ArgumentException>(() => new PluginLoadContext("x", "relative/plugin.dll"));

    /// <summary>Rewrites the major version of one assembly reference in place (the AssemblyRef row's first field).</summary>
    private static void SetReferencedMajorVersion(string path, string referenceName, ushort major)
    {
        long offset = AssemblyRefRowOffset(path, referenceName);
        using FileStream file = File.OpenWrite(path);
        file.Position = offset;
        file.Write(BitConverter.GetBytes(major));
    }

    /// <summary>
    /// Points the reference <paramref name="referenceName"/> at the host's Vmm.Core, by overwriting the name's bytes
    /// in the string heap (the shorter name ends at its NUL); only metadata reads follow, never a load.
    /// </summary>
    private static void RenameToHostCore(string path, string referenceName)
    {
        (long nameOffset, int length) = ReferenceNameOffset(path, referenceName);
        byte[] name = System.Text.Encoding.ASCII.GetBytes("Vmm.Core");
        Assert.True(name.Length < length);
        using FileStream file = File.OpenWrite(path);
        file.Position = nameOffset;
        file.Write(name);
        file.WriteByte(0);
    }

    private static long AssemblyRefRowOffset(string path, string referenceName)
    {
        using FileStream stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        MetadataReader metadata = pe.GetMetadataReader();
        int row = 0;
        foreach (AssemblyReferenceHandle handle in metadata.AssemblyReferences)
        {
            row++;
            if (metadata.GetString(metadata.GetAssemblyReference(handle).Name) == referenceName)
            {
                return pe.PEHeaders.MetadataStartOffset
                    + metadata.GetTableMetadataOffset(TableIndex.AssemblyRef)
                    + ((row - 1) * metadata.GetTableRowSize(TableIndex.AssemblyRef));
            }
        }

        throw new InvalidOperationException($"'{path}' does not reference '{referenceName}'.");
    }

    private static (long Offset, int Length) ReferenceNameOffset(string path, string referenceName)
    {
        using FileStream stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        MetadataReader metadata = pe.GetMetadataReader();
        foreach (AssemblyReferenceHandle handle in metadata.AssemblyReferences)
        {
            StringHandle name = metadata.GetAssemblyReference(handle).Name;
            if (metadata.GetString(name) == referenceName)
            {
                return (pe.PEHeaders.MetadataStartOffset + metadata.GetHeapMetadataOffset(HeapIndex.String) + metadata.GetHeapOffset(name), referenceName.Length);
            }
        }

        throw new InvalidOperationException($"'{path}' does not reference '{referenceName}'.");
    }
}
