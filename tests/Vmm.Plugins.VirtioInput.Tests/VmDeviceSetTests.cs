using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Input;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Xunit;

namespace Vmm.Plugins.VirtioInput.Tests;

/// <summary>
/// What every platform does with a spec: devices built with their plugin's services, which carry the VM's own
/// routers, and the <c>input</c> control command registered, so the control API reaches the guest's devices.
/// </summary>
public sealed class VmDeviceSetTests
{
    [Fact]
    public async Task Devices_get_the_vms_input_router_and_the_input_command_reaches_them()
    {
        using var routers = new VmRouters();
        using PluginHost host = LoadPlugins(routers);
        VmSpec spec = KeyboardSpec(host);
        var commands = new ControlCommandRegistry();
        var context = new VmRunContext(NullLoggerFactory.Instance, host, commands) { Routers = routers };

        using VmDeviceSet devices = VmDeviceSet.Create(spec, context);

        Assert.Same(devices.Devices[0].Device, routers.Input.FindTarget(InputDeviceKind.Keyboard, "kbd0"));
        Assert.Single(devices.VirtioDevices);
        Assert.True(commands.TryGet("input", out IControlCommand? input));
        using JsonDocument args = JsonDocument.Parse("""{ "kind": "keyboard", "events": [ { "type": "key", "code": 30, "value": 1 } ] }""");

        // The device is not activated by a driver here, so the event is accepted and counted as inactive: what
        // matters is that the command found the VM's device through the VM's router.
        await input.ExecuteAsync(args.RootElement, CancellationToken.None);
    }

    [Fact]
    public async Task A_host_evdev_device_named_in_the_config_feeds_the_guest_device_through_the_vms_router()
    {
        using var routers = new VmRouters();
        using PluginHost host = LoadPlugins(routers);
        string events = Path.Combine(Path.GetTempPath(), $"vmm-evdev-{Guid.NewGuid():N}");
        byte[] records = new byte[2 * 24];
        WriteRecord(records.AsSpan(0, 24), InputEventTypes.Key, 30, 1);   // KEY_A down
        WriteRecord(records.AsSpan(24, 24), InputEventTypes.Syn, 0, 0);   // SYN_REPORT
        File.WriteAllBytes(events, records);
        try
        {
            VmSpec spec = KeyboardSpec(host) with { HostEvdevSources = [new HostEvdevSpec(events, InputDeviceKind.Keyboard, "kbd0")] };
            var context = new VmRunContext(NullLoggerFactory.Instance, host, new ControlCommandRegistry()) { Routers = routers };

            using VmDeviceSet devices = VmDeviceSet.Create(spec, context);

            Vmm.Core.Input.HostEvdevSource source = Assert.Single(devices.HostEvdevSources);
            await source.Completion.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            Assert.Equal(2, source.PublishedEvents); // the key and its SYN_REPORT
            Assert.Equal(0, source.UnroutedEvents);
        }
        finally
        {
            File.Delete(events);
        }
    }

    /// <summary>A VM with one virtio-input keyboard, kbd0, from the loaded plugin.</summary>
    private static VmSpec KeyboardSpec(PluginHost host)
    {
        Assert.True(host.TryGetFactory("virtio-input", "virtio-input", out IDeviceFactory? factory));
        return new VmSpec(
            new MachineSpec(64 << 20, 1, null, null, "console=ttyS0"),
            PlatformKind.Auto,
            [new DeviceSpec("kbd0", "virtio-input", "virtio-input", ReadOptions(factory, """{ "kind": "keyboard" }"""), factory, "$.devices[0]")],
            null,
            null,
            "/");
    }

    private static PluginHost LoadPlugins(VmRouters routers)
    {
        var options = new PluginHostOptions();
        options.SearchPaths.Add(Path.Combine(AppContext.BaseDirectory, "plugins"));
        foreach (var service in routers.SharedServices)
        {
            options.SharedServices.Add(service);
        }

        var host = new PluginHost(options);
        host.LoadAll();
        return host;
    }

    // struct input_event on x86-64: struct timeval (16 bytes), __u16 type, __u16 code, __s32 value.
    private static void WriteRecord(Span<byte> record, ushort type, ushort code, int value)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(record[16..], type);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(record[18..], code);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(record[20..], value);
    }

    // Options are the plugin's own type (its load context), so they are read through the factory's OptionsType.
    private static object ReadOptions(IDeviceFactory factory, string json)
        => JsonSerializer.Deserialize(json, factory.OptionsType, DeviceOptionsSerializer.Options)!;
}
