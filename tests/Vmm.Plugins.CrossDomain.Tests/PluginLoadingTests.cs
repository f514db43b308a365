using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Files;
using Vmm.Contracts.Virtio;
using Vmm.Core.Plugins;
using Vmm.Plugins.VirtioGpu.Testing;
using Vmm.Testing;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// The cross-domain plugin extends another plugin's device: both load from their build output through the plugin
/// host, each in its own load context and container, and virtio-gpu's factory sees the context type (capset 5)
/// only in a VM whose config names the cross-domain plugin.
/// </summary>
public sealed class PluginLoadingTests
{
    [Fact]
    public void Virtio_gpu_offers_capset_5_when_the_vm_names_the_cross_domain_plugin()
    {
        var options = new PluginHostOptions();
        options.SearchPaths.Add(SourceTree.PluginOutput("Vmm.Plugins.VirtioGpu"));
        options.SearchPaths.Add(SourceTree.PluginOutput("Vmm.Plugins.CrossDomain"));
        using var host = new PluginHost(options);
        host.LoadAll();
        Assert.True(host.TryFindFactory("virtio-gpu", out IDeviceFactory? gpu, out _));
        Assert.True(host.TryFindFactory("cross-domain", out IDeviceFactory? crossDomain, out string? plugin));
        Assert.Equal("cross-domain", plugin);

        // The cross-domain device sets the sockets; it is listed after the gpu on purpose (order does not matter).
        IServiceProvider joined = CrossPluginServices.Join(host, "virtio-gpu", ["virtio-gpu", "cross-domain"])!;
        IServiceProvider crossServices = CrossPluginServices.Join(host, "cross-domain", ["virtio-gpu", "cross-domain"])!;
        object crossOptions = Activator.CreateInstance(crossDomain.OptionsType)!;
        crossDomain.OptionsType.GetProperty("X11Display")!.SetValue(crossOptions, ":97");
        using IDevice settings = crossDomain.Create(Context("xdomain0", crossServices), crossOptions);

        Assert.Equal((1u, 5u, 1u << 0x11), CapsetsOf(gpu, joined));
        Assert.Equal((0u, 0u, 0u), CapsetsOf(gpu, CrossPluginServices.Join(host, "virtio-gpu", ["virtio-gpu"])!));
    }

    [Fact]
    public void The_cross_domain_device_sees_virtio_fs_export_table_only_in_a_vm_that_names_virtio_fs()
    {
        var options = new PluginHostOptions();
        options.SearchPaths.Add(SourceTree.PluginOutput("Vmm.Plugins.CrossDomain"));
        options.SearchPaths.Add(SourceTree.PluginOutput("Vmm.Plugins.VirtioFs"));
        using var host = new PluginHost(options);
        host.LoadAll();

        // The contract type is the host's, so the table crosses the plugins' load contexts.
        IServiceProvider withFs = CrossPluginServices.Join(host, "cross-domain", ["cross-domain", "virtio-fs"])!;
        IFileExportTable table = Assert.Single((IEnumerable<IFileExportTable>)withFs.GetService(typeof(IEnumerable<IFileExportTable>))!);
        Assert.Equal("FileExportTable", table.GetType().Name);
        Assert.Null(table.OpenExport(0, 1));

        IServiceProvider withoutFs = CrossPluginServices.Join(host, "cross-domain", ["cross-domain"])!;
        Assert.Empty((IEnumerable<IFileExportTable>?)withoutFs.GetService(typeof(IEnumerable<IFileExportTable>)) ?? []);
    }

    /// <summary>Builds the gpu with <paramref name="services"/> and reads num_capsets, capset 0's id and its supported_channels as a guest.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_dependency_the_host_also_has_loads_from_the_plugins_folder_into_its_context(bool unloadable)
    {
        // This test process has its own Tmds.LibC; the plugin's comes from its folder all the same (it is not shared).
        Assembly hostCopy = typeof(Tmds.Linux.LibC).Assembly;
        string folder = SourceTree.PluginOutput("Vmm.Plugins.CrossDomain");
        var options = new PluginHostOptions { Unloadable = unloadable };
        options.SearchPaths.Add(folder);
        using var host = new PluginHost(options);
        host.LoadAll();
        Assert.True(host.TryFindFactory("cross-domain", out IDeviceFactory? factory, out _));
        Assembly plugin = factory.GetType().Assembly;
        AssemblyLoadContext context = AssemblyLoadContext.GetLoadContext(plugin)!;

        Assembly pluginCopy = context.LoadFromAssemblyName(plugin.GetReferencedAssemblies().Single(r => r.Name == "Tmds.LibC"));

        Assert.NotSame(hostCopy, pluginCopy);
        Assert.Same(context, AssemblyLoadContext.GetLoadContext(pluginCopy));
        Assert.Equal(unloadable, context.IsCollectible);
        if (!unloadable)
        {
            Assert.StartsWith(Path.GetFullPath(folder) + Path.DirectorySeparatorChar, pluginCopy.Location, StringComparison.Ordinal);
        }
    }

    private static (uint Count, uint Id, uint Channels) CapsetsOf(IDeviceFactory factory, IServiceProvider services)
    {
        using var machine = new InProcessMachine();
        using IDevice gpu = factory.Create(Context("gpu0", services), Activator.CreateInstance(factory.OptionsType)!);
        machine.AttachVirtioDevice((IVirtioDevice)gpu);
        VirtioPciDriver driver = VirtioPciDriver.Open(machine, VirtioDeviceType.Gpu);
        driver.Initialize();
        Span<byte> config = stackalloc byte[16];
        driver.ReadDeviceConfig(0, config);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(config[12..]);
        if (count == 0)
        {
            return (0, 0, 0);
        }

        byte[] info = Send(machine, driver, GpuCommandBytes.Command(0x0108, 32), 40);
        byte[] capset = Send(machine, driver, GpuCommandBytes.Command(0x0109, 32, (24, 5)), 40);
        return (count, BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(24)), BinaryPrimitives.ReadUInt32LittleEndian(capset.AsSpan(28)));
    }

    private static byte[] Send(InProcessMachine machine, VirtioPciDriver driver, byte[] command, int responseSize)
    {
        GuestBuffer request = machine.AllocateBuffer((uint)command.Length);
        machine.Memory.Write(request.Address, command);
        GuestBuffer response = machine.AllocateBuffer((uint)responseSize);
        driver.Submit(0, [request], [response]);
        (_, uint length) = driver.WaitForUsed(0, TimeSpan.FromSeconds(10));
        return machine.Memory.GetSpan(response.Address, (int)length).ToArray();
    }

    private static DeviceCreateContext Context(string id, IServiceProvider services) => new(id, NullLoggerFactory.Instance, null, services, AppContext.BaseDirectory);
}
