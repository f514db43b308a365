using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Input;
using Vmm.Contracts.Virtio;
using Vmm.Core.Input;
using Vmm.Core.Plugins;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;
using Xunit;

namespace Vmm.Plugins.VirtioInput.Tests;

/// <summary>
/// The plugin loaded through the plugin host from its installed folder, attached to the in-process machine's
/// virtio-pci transport, and driven by the C# driver the way Linux's virtio_input.c does it: probe the config,
/// post eventq buffers, DRIVER_OK; host input goes through the real <see cref="InputRouter"/>.
/// </summary>
public sealed class InProcessPciTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly InputRouter _router = new();
    private readonly PluginHost _host;
    private readonly InProcessMachine _machine = new();
    private readonly List<IDevice> _devices = [];

    public InProcessPciTests()
    {
        var options = new PluginHostOptions();
        options.SearchPaths.Add(Path.Combine(AppContext.BaseDirectory, "plugins"));
        options.SharedServices.Add(ServiceDescriptor.Singleton<IInputRouter>(_router));
        _host = new PluginHost(options);
        _host.LoadAll();
    }

    [Fact]
    public void Keyboard_probe_events_and_led_status_round_trip_through_the_transport()
    {
        IVirtioDevice device = Create("kbd0", new VirtioInputOptions { Kind = "keyboard", Name = "Test Keyboard", Serial = "K-1" });
        _machine.AttachVirtioDevice(device);
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Input);
        driver.Initialize();

        Assert.Equal(VirtioFeatures.Version1, driver.NegotiatedFeatures & VirtioFeatures.Version1);
        Assert.Equal("Test Keyboard", Encoding.UTF8.GetString(Query(driver, 0x01, 0)));
        Assert.Equal("K-1", Encoding.UTF8.GetString(Query(driver, 0x02, 0)));
        Assert.Equal([0x07], Query(driver, 0x11, 0x11));
        Assert.Empty(Query(driver, 0x11, 0x03));

        Dictionary<ushort, ulong> buffers = PostEventBuffers(driver, 8);
        Assert.True(SpinWait.SpinUntil(() => ((IInputTarget)device).Kind == InputDeviceKind.Keyboard && IsActive(device), s_timeout));
        var keyA = new InputEvent(InputEventTypes.Key, 30, 1);

        Assert.True(_router.Publish(InputDeviceKind.Keyboard, [keyA]));

        Assert.Equal([keyA, InputEvent.SynReport], ReadEvents(driver, buffers, 2));

        var seen = new List<(string, InputEvent)>();
        using var arrived = new ManualResetEventSlim();
        _router.StatusReported += (id, status) =>
        {
            lock (seen)
            {
                seen.Add((id, status));
            }

            arrived.Set();
        };
        GuestBuffer led = _machine.AllocateBuffer(8);
        _machine.Memory.Write(led.Address, InputDeviceHarness.EncodeEvent(new InputEvent(InputEventTypes.Led, 1, 1)));
        driver.Submit(VirtioInputDevice.StatusQueue, [led], []);
        driver.WaitForUsed(VirtioInputDevice.StatusQueue, s_timeout);

        Assert.True(arrived.Wait(s_timeout, TestContext.Current.CancellationToken));
        Assert.Equal([("kbd0", new InputEvent(InputEventTypes.Led, 1, 1))], seen);
    }

    [Fact]
    public void Tablet_and_gamepad_side_by_side_get_their_own_events()
    {
        IVirtioDevice tablet = Create("tab0", new VirtioInputOptions { Kind = "tablet", Width = 1024, Height = 768 });
        IVirtioDevice gamepad = Create("pad0", new VirtioInputOptions { Kind = "gamepad" });
        _machine.AttachVirtioDevice(tablet);
        _machine.AttachVirtioDevice(gamepad);
        VirtioPciDriver tabletDriver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Input, 0);
        VirtioPciDriver gamepadDriver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Input, 1);
        tabletDriver.Initialize();
        gamepadDriver.Initialize();

        byte[] absX = Query(tabletDriver, 0x12, 0x00);
        Assert.Equal(1023, BinaryPrimitives.ReadInt32LittleEndian(absX.AsSpan(4)));
        byte[] hat = Query(gamepadDriver, 0x12, 0x10);
        Assert.Equal(-1, BinaryPrimitives.ReadInt32LittleEndian(hat));

        Dictionary<ushort, ulong> tabletBuffers = PostEventBuffers(tabletDriver, 4);
        Dictionary<ushort, ulong> gamepadBuffers = PostEventBuffers(gamepadDriver, 4);
        Assert.True(SpinWait.SpinUntil(() => IsActive(tablet) && IsActive(gamepad), s_timeout));

        InputEvent[] pointer = [new(InputEventTypes.Absolute, 0, 512), new(InputEventTypes.Absolute, 1, 384)];
        InputEvent[] button = [new(InputEventTypes.Key, 0x130, 1)];
        Assert.True(_router.Publish(InputDeviceKind.Tablet, pointer));
        Assert.True(_router.Publish(InputDeviceKind.Gamepad, button, "pad0"));

        Assert.Equal([.. pointer, InputEvent.SynReport], ReadEvents(tabletDriver, tabletBuffers, 3));
        Assert.Equal([.. button, InputEvent.SynReport], ReadEvents(gamepadDriver, gamepadBuffers, 2));
    }

    [Fact]
    public async Task Frames_published_from_several_threads_arrive_whole_and_in_order_and_overflow_drops_whole_frames()
    {
        IVirtioDevice device = Create("kbd0", new VirtioInputOptions { Kind = "keyboard" });
        _machine.AttachVirtioDevice(device);
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Input);
        driver.Initialize();
        Dictionary<ushort, ulong> buffers = PostEventBuffers(driver, 64);
        Assert.True(SpinWait.SpinUntil(() => IsActive(device), s_timeout));
        const int FramesPerSource = 300;

        // Two sources, each with its own key code and increasing values; the guest side reaps and reposts.
        Task[] sources =
        [
            .. new ushort[] { 2, 3 }.Select(code => Task.Run(() =>
            {
                for (int i = 0; i < FramesPerSource; i++)
                {
                    Assert.True(_router.Publish(InputDeviceKind.Keyboard, [new InputEvent(InputEventTypes.Key, code, i)]));
                }
            })),
        ];
        var received = new List<InputEvent>();
        long Dropped() => (long)device.GetType().GetProperty(nameof(VirtioInputDevice.DroppedEvents))!.GetValue(device)!;
        while (received.Count + Dropped() < 2 * 2 * FramesPerSource)
        {
            (ushort head, uint length) = driver.WaitForUsed(VirtioInputDevice.EventQueue, s_timeout);
            Assert.Equal(8u, length);
            ulong address = buffers[head];
            Span<byte> wire = _machine.Memory.GetSpan(address, 8);
            received.Add(new InputEvent(
                BinaryPrimitives.ReadUInt16LittleEndian(wire),
                BinaryPrimitives.ReadUInt16LittleEndian(wire[2..]),
                BinaryPrimitives.ReadInt32LittleEndian(wire[4..])));
            buffers.Remove(head);
            buffers[driver.Submit(VirtioInputDevice.EventQueue, [], [new GuestBuffer(address, 8)])] = address;
        }

        await Task.WhenAll(sources);

        // The publishers may outrun the guest past the bound: then whole frames are dropped, never halves.
        Assert.Equal(2 * 2 * FramesPerSource, received.Count + Dropped());
        Assert.Equal(0, Dropped() % 2);
        for (int i = 0; i < received.Count; i += 2)
        {
            Assert.Equal(InputEventTypes.Key, received[i].Type);
            Assert.Equal(InputEvent.SynReport, received[i + 1]);
        }

        foreach (ushort code in new ushort[] { 2, 3 })
        {
            int[] values = [.. received.Where(e => e.Type == InputEventTypes.Key && e.Code == code).Select(e => e.Value)];
            Assert.NotEmpty(values);
            Assert.True(values.Zip(values.Skip(1)).All(pair => pair.First < pair.Second), $"Source {code} arrived out of order.");
            Assert.Equal(FramesPerSource - 1, values[^1]);
        }
    }

    public void Dispose()
    {
        _machine.Dispose();
        foreach (IDevice device in _devices)
        {
            device.Dispose();
        }

        _host.Dispose();
        _router.Dispose();
    }

    private static bool IsActive(IVirtioDevice device) =>

        // The device comes from the plugin's own load context, so it is reached by reflection, not by its type.
        (bool)device.GetType().GetProperty(nameof(VirtioInputDevice.IsActive))!.GetValue(device)!;

    private static byte[] Query(VirtioPciDriver driver, byte select, byte subsel)
    {
        driver.WriteDeviceConfig(0, [select]);
        driver.WriteDeviceConfig(1, [subsel]);
        byte[] size = new byte[1];
        driver.ReadDeviceConfig(2, size);
        byte[] payload = new byte[size[0]];
        for (int i = 0; i < payload.Length; i++)
        {
            driver.ReadDeviceConfig(8 + i, payload.AsSpan(i, 1));
        }

        return payload;
    }

    private Dictionary<ushort, ulong> PostEventBuffers(VirtioPciDriver driver, int count)
    {
        var buffers = new Dictionary<ushort, ulong>();
        for (int i = 0; i < count; i++)
        {
            GuestBuffer buffer = _machine.AllocateBuffer(8);
            buffers[driver.Submit(VirtioInputDevice.EventQueue, [], [buffer])] = buffer.Address;
        }

        return buffers;
    }

    private List<InputEvent> ReadEvents(VirtioPciDriver driver, Dictionary<ushort, ulong> buffers, int count)
    {
        var events = new List<InputEvent>();
        for (int i = 0; i < count; i++)
        {
            (ushort head, uint length) = driver.WaitForUsed(VirtioInputDevice.EventQueue, s_timeout);
            Assert.Equal(8u, length);
            Span<byte> wire = _machine.Memory.GetSpan(buffers[head], 8);
            events.Add(new InputEvent(
                BinaryPrimitives.ReadUInt16LittleEndian(wire),
                BinaryPrimitives.ReadUInt16LittleEndian(wire[2..]),
                BinaryPrimitives.ReadInt32LittleEndian(wire[4..])));
        }

        return events;
    }

    private IVirtioDevice Create(string id, VirtioInputOptions options)
    {
        Assert.True(_host.TryGetFactory("virtio-input", VirtioInputDeviceFactory.Type, out IDeviceFactory? factory));
        Assert.True(_host.TryGetServices("virtio-input", out IServiceProvider? services));

        // The factory's options type lives in the plugin's load context: fill it through JSON, as the config reader does.
        object pluginOptions = System.Text.Json.JsonSerializer.Deserialize(
            System.Text.Json.JsonSerializer.Serialize(options, System.Text.Json.JsonSerializerOptions.Web), factory.OptionsType, System.Text.Json.JsonSerializerOptions.Web)!;
        var validation = new DeviceOptionsValidationContext("$.devices[0].options", "/");
        factory.Validate(pluginOptions, validation);
        Assert.Empty(validation.Errors);
        IDevice device = factory.Create(new DeviceCreateContext(id, NullLoggerFactory.Instance, null, services, "/"), pluginOptions);
        _devices.Add(device);
        Assert.NotSame(typeof(VirtioInputDevice), device.GetType());
        return Assert.IsAssignableFrom<IVirtioDevice>(device);
    }
}
