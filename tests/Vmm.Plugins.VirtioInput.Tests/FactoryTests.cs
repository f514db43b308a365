using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Input;
using Vmm.Contracts.Virtio;
using Xunit;

namespace Vmm.Plugins.VirtioInput.Tests;

public sealed class FactoryTests
{
    [Fact]
    public void Default_options_are_valid_and_make_a_keyboard()
    {
        IDeviceFactory factory = new VirtioInputDeviceFactory();

        Assert.Empty(Validate(new VirtioInputOptions()));
        using IDevice device = factory.Create(Context(null), new VirtioInputOptions());

        var input = Assert.IsType<VirtioInputDevice>(device);
        Assert.Equal(InputDeviceKind.Keyboard, input.Kind);
        Assert.Equal(VirtioDeviceType.Input, input.DeviceType);
        Assert.Equal(0ul, input.DeviceFeatures);
        Assert.Equal([64, 64], input.QueueMaxSizes);
    }

    [Fact]
    public void Every_wrong_option_is_reported_with_its_path()
    {
        var options = new VirtioInputOptions
        {
            Kind = "joystick",
            Name = new string('x', 64),
            Serial = "a\0b",
            QueueBound = 2,
        };

        List<string> paths = Validate(options).Select(e => e.Path).ToList();

        Assert.Equal(["$.devices[0].options.kind", "$.devices[0].options.name", "$.devices[0].options.serial", "$.devices[0].options.queueBound"], paths);
    }

    [Fact]
    public void Display_size_is_for_tablets_only_and_comes_in_pairs()
    {
        Assert.Equal(["$.devices[0].options.width"], Validate(new VirtioInputOptions { Kind = "mouse", Width = 800 }).Select(e => e.Path));
        Assert.Equal(["$.devices[0].options.height"], Validate(new VirtioInputOptions { Kind = "tablet", Width = 800 }).Select(e => e.Path));
        Assert.Equal(["$.devices[0].options.width"], Validate(new VirtioInputOptions { Kind = "tablet", Width = -1, Height = 600 }).Select(e => e.Path));
        Assert.Empty(Validate(new VirtioInputOptions { Kind = "tablet", Width = 1280, Height = 800 }));
    }

    [Fact]
    public void A_63_byte_utf8_name_fits()
    {
        Assert.Empty(Validate(new VirtioInputOptions { Name = new string('é', 31) + "x" }));
        Assert.Single(Validate(new VirtioInputOptions { Name = new string('é', 32) }));
    }

    [Fact]
    public void The_device_joins_the_router_from_the_plugin_services()
    {
        var router = new RecordingInputRouter();
        IDeviceFactory factory = new VirtioInputDeviceFactory();

        using IDevice device = factory.Create(Context(router), new VirtioInputOptions { Kind = "gamepad", Name = "Pad" });

        IInputTarget target = Assert.Single(router.Targets);
        Assert.Same(device, target);
        Assert.Equal(InputDeviceKind.Gamepad, target.Kind);
        Assert.Equal("Pad", ((VirtioInputDevice)device).Name);
    }

    [Fact]
    public void The_plugin_registers_the_factory()
    {
        var services = new ServiceCollection();
        new VirtioInputPlugin().ConfigureServices(services);

        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Equal(VirtioInputDeviceFactory.Type, Assert.Single(provider.GetServices<IDeviceFactory>()).DeviceType);
    }

    private static IReadOnlyList<(string Path, string Message)> Validate(VirtioInputOptions options)
    {
        var context = new DeviceOptionsValidationContext("$.devices[0].options", Path.GetTempPath());
        ((IDeviceFactory)new VirtioInputDeviceFactory()).Validate(options, context);
        return context.Errors;
    }

    private static DeviceCreateContext Context(IInputRouter? router)
    {
        var services = new ServiceCollection();
        if (router is not null)
        {
            services.AddSingleton(router);
        }

        return new DeviceCreateContext("input0", NullLoggerFactory.Instance, null, services.BuildServiceProvider(), Path.GetTempPath());
    }
}
