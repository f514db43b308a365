using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Input;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Core.Input;
using Vmm.Core.Tests.Config;
using Vmm.Core.Tests.Display;
using Xunit;

namespace Vmm.Core.Tests.Hosting;

/// <summary>
/// A host that runs VM after VM in one process with one set of routers (its plugins are loaded with them), as
/// test suites and the soak runner do: each VM leaves nothing of itself in the routers. Both defects were found by
/// <c>tools/soak/soak.sh cycles</c>: the second VM was refused ("A display source with id 'gpu0' is already
/// registered"), and every run context left an input meter alive (one <c>Meter</c> a VM, ~800 bytes a cycle).
/// </summary>
public sealed class VmAfterVmTests
{
    [Fact]
    public void A_disposed_vm_takes_its_display_source_and_sinks_out_of_the_shared_router()
    {
        using VmRouters routers = new();
        ColourSinkFactory sinks = new("colour-sink");
        FakePluginCatalog catalog = new FakePluginCatalog().AddLoaded("displays", new ColourSourceFactory(), sinks);
        VmSpec spec = Spec(catalog, sinks);

        ColourSource? first = null;
        for (int vm = 0; vm < 3; vm++)
        {
            using VmDeviceSet devices = VmDeviceSet.Create(spec, new VmRunContext(NullLoggerFactory.Instance, catalog, new ControlCommandRegistry()) { Routers = routers });
            var source = (ColourSource)devices.Devices[0].Device;
            Assert.NotSame(first, source);
            first ??= source;
            Assert.Same(source, Assert.Single(routers.Display.Sources));
            Assert.Equal("src0", routers.Display.ActiveSourceId);
            Assert.Equal(["sink0"], routers.Display.SinkIds);
        }

        Assert.Empty(routers.Display.Sources);
        Assert.Empty(routers.Display.SinkIds);
        Assert.Null(routers.Display.ActiveSourceId);
        Assert.Equal(3, sinks.Made.Count);
        Assert.All(sinks.Made, sink => Assert.True(sink.Disposed));
    }

    [Fact]
    public void A_run_context_given_routers_makes_none_of_its_own()
    {
        // InstrumentPublished runs on the thread that creates the instrument: count only this test's.
        int thread = Environment.CurrentManagedThreadId;
        int published = 0;
        using MeterListener listener = new()
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Name == InputRouter.PublishedCounterName && Environment.CurrentManagedThreadId == thread)
                {
                    published++;
                }
            },
        };
        listener.Start();

        // A router makes its counters on its first event (start-up does not pay for a meter): count routers by theirs.
        InputEvent[] key = [new InputEvent(InputEventTypes.Key, 30, 1)];
        using VmRouters routers = new();
        Assert.Equal(0, published);
        routers.Input.Publish(InputDeviceKind.Keyboard, key);
        routers.Input.Publish(InputDeviceKind.Keyboard, key);
        Assert.Equal(1, published);

        for (int i = 0; i < 10; i++)
        {
            VmRunContext given = new(NullLoggerFactory.Instance, new FakePluginCatalog(), new ControlCommandRegistry()) { Routers = routers };
            Assert.Same(routers, given.Routers);
            given.Routers.Input.Publish(InputDeviceKind.Keyboard, key);
        }

        Assert.Equal(1, published);

        // Without routers the context makes its default pair once, on first use.
        VmRunContext own = new(NullLoggerFactory.Instance, new FakePluginCatalog(), new ControlCommandRegistry());
        Assert.Equal(1, published);
        Assert.Same(own.Routers, own.Routers);
        own.Routers.Input.Publish(InputDeviceKind.Keyboard, key);
        Assert.Equal(2, published);
        own.Routers.Dispose();
    }

    private static VmSpec Spec(FakePluginCatalog catalog, IDeviceFactory sinks)
    {
        Assert.True(catalog.TryGetFactory("displays", "colour-source", out IDeviceFactory? sources));
        return new VmSpec(
            new MachineSpec(64 << 20, 1, null, null, ""),
            PlatformKind.Auto,
            [
                new DeviceSpec("src0", "displays", "colour-source", new ColourSinkOptions(), sources, "$.devices[0]"),
                new DeviceSpec("sink0", "displays", "colour-sink", new ColourSinkOptions(), sinks, "$.devices[1]"),
            ],
            new DisplaySpec("src0", ["sink0"]),
            null,
            "/");
    }

    /// <summary>Makes <see cref="ColourSource"/>s named by the device id.</summary>
    private sealed class ColourSourceFactory : DeviceFactory<ColourSinkOptions>
    {
        public override string DeviceType => "colour-source";

        public override string Description => "A one-colour display source.";

        protected override IDevice Create(DeviceCreateContext context, ColourSinkOptions options) => new ColourSource(context.Id, 0x40);
    }
}
