using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Display;
using Vmm.Core.Display.Control;
using Vmm.Core.Tests.Config;
using Xunit;

namespace Vmm.Core.Tests.Display;

/// <summary>
/// The <c>display*</c> control commands over a real control socket, with a real display router, two sources of
/// different colours, a config sink and sinks made through a fake plugin's factory.
/// </summary>
public sealed class DisplayControlCommandsTests : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vmm-display-").FullName;
    private readonly DisplayRouter _router = new();
    private readonly ColourSinkFactory _sinkFactory = new("colour-sink");
    private readonly ColourSinkFactory _pngFactory = new(ScreenshotCommand.TemporarySinkType);
    private readonly ColourSink _configSink = new("vnc0");
    private readonly ServiceProvider _services = new ServiceCollection().BuildServiceProvider();
    private readonly RuntimeDisplaySinks _sinks;
    private readonly ControlServer _server;

    public DisplayControlCommandsTests()
    {
        var source1 = new ColourSource("gpu0", 0x11);
        var source2 = new ColourSource("pattern0", 0x22, width: 4);
        _router.AddDevices([source1, source2, _configSink]);
        FakePluginCatalog catalog = new FakePluginCatalog().AddLoaded("display", _sinkFactory, _pngFactory, new NotASinkFactory());
        List<(DeviceSpec, IDevice)> configDevices =
        [
            (new DeviceSpec("gpu0", "virtio-gpu", "virtio-gpu", new object(), _sinkFactory, "$.devices[0]"), source1),
            (new DeviceSpec("pattern0", "display", "display-test-pattern", new object(), _sinkFactory, "$.devices[1]"), source2),
            (new DeviceSpec("vnc0", "display", "display-vnc", new object(), _sinkFactory, "$.devices[2]"), _configSink),
        ];
        _sinks = new RuntimeDisplaySinks(_router, catalog, _ => _services, configDevices, NullLoggerFactory.Instance, _directory);
        ControlCommandRegistry commands = new();
        commands.Add(new DisplayListCommand(_router, _sinks));
        commands.Add(DisplayTopologyCommand.SwitchSource(_router));
        commands.Add(DisplayTopologyCommand.AttachSink(_router));
        commands.Add(DisplayTopologyCommand.DetachSink(_router));
        commands.Add(new DisplayAddSinkCommand(_sinks));
        commands.Add(new DisplayRemoveSinkCommand(_sinks));
        commands.Add(new ScreenshotCommand(_router, _sinks));
        _server = new ControlServer(Path.Combine(_directory, "vm.sock"), commands);
        _server.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _sinks.Dispose();
        await _services.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Display_lists_sources_and_sinks_with_their_state()
    {
        ControlResponse reply = await SendAsync("display", []);

        Assert.True(reply.Ok, reply.Json);
        Assert.Equal(
            """{"activeSource":"gpu0","sources":[{"id":"gpu0","type":"virtio-gpu","active":true,"mode":{"width":2,"height":2,"format":"B8G8R8X8"}},"""
                + """{"id":"pattern0","type":"display-test-pattern","active":false,"mode":{"width":4,"height":2,"format":"B8G8R8X8"}}],"sinks":"""
                + """[{"id":"vnc0","type":"display-vnc","attached":true,"origin":"config"}]}""",
            reply.Result.GetRawText());
    }

    [Fact]
    public async Task Switch_source_shows_the_other_source_on_the_attached_sink()
    {
        Assert.Equal((byte)0x11, _configSink.LastColour);

        ControlResponse reply = await SendAsync("display-switch-source", new JsonObject { ["id"] = "pattern0" });

        Assert.True(reply.Ok, reply.Json);
        Assert.Equal("""{"activeSource":"pattern0","attachedSinks":["vnc0"]}""", reply.Result.GetRawText());
        Assert.Equal((byte)0x22, _configSink.LastColour);
        Assert.Equal("pattern0", _router.ActiveSourceId);
    }

    [Fact]
    public async Task Detach_then_attach_stops_and_resumes_frames()
    {
        ControlResponse detached = await SendAsync("display-detach-sink", new JsonObject { ["id"] = "vnc0" });
        int framesWhileDetached = _configSink.Frames;
        await SendAsync("display-switch-source", new JsonObject { ["id"] = "pattern0" });
        Assert.Equal(framesWhileDetached, _configSink.Frames);
        Assert.Equal((byte)0x11, _configSink.LastColour);

        ControlResponse attached = await SendAsync("display-attach-sink", new JsonObject { ["id"] = "vnc0" });

        Assert.Equal("""{"activeSource":"gpu0","attachedSinks":[]}""", detached.Result.GetRawText());
        Assert.Equal("""{"activeSource":"pattern0","attachedSinks":["vnc0"]}""", attached.Result.GetRawText());
        Assert.Equal((byte)0x22, _configSink.LastColour);
    }

    [Theory]
    [InlineData("display-switch-source", "nope", DisplayArgs.NoSuchSourceCode, "(sources: gpu0, pattern0)")]
    [InlineData("display-attach-sink", "nope", DisplayArgs.NoSuchSinkCode, "(sinks: vnc0)")]
    [InlineData("display-detach-sink", "nope", DisplayArgs.NoSuchSinkCode, "(sinks: vnc0)")]
    public async Task Unknown_ids_are_errors_listing_the_known_ones(string command, string id, string code, string expected)
    {
        ControlResponse reply = await SendAsync(command, new JsonObject { ["id"] = id });

        AssertError(reply, code, expected);
    }

    [Fact]
    public async Task Add_sink_makes_a_sink_through_the_factory_attaches_it_and_remove_disposes_it()
    {
        ControlResponse added = await SendAsync("display-add-sink", new JsonObject { ["type"] = "colour-sink", ["id"] = "vnc1", ["options"] = new JsonObject { ["port"] = 5901 } });
        ColourSink made = Assert.Single(_sinkFactory.Made);
        ControlResponse listed = await SendAsync("display", []);
        await SendAsync("display-switch-source", new JsonObject { ["id"] = "pattern0" });
        byte? colourAfterSwitch = made.LastColour;

        ControlResponse removed = await SendAsync("display-remove-sink", new JsonObject { ["id"] = "vnc1" });

        Assert.Equal("""{"id":"vnc1","type":"colour-sink","attached":true}""", added.Result.GetRawText());
        Assert.Contains("""{"id":"vnc1","type":"colour-sink","attached":true,"origin":"control"}""", listed.Result.GetRawText(), StringComparison.Ordinal);
        Assert.Equal((byte)0x22, colourAfterSwitch);
        Assert.Equal("""{"id":"vnc1","removed":true}""", removed.Result.GetRawText());
        Assert.True(made.Disposed);
        Assert.DoesNotContain("vnc1", _router.Sinks.Select(s => s.Id));
    }

    [Fact]
    public async Task Add_sink_detached_registers_without_attaching()
    {
        ControlResponse added = await SendAsync("display-add-sink", new JsonObject { ["type"] = "colour-sink", ["id"] = "later", ["attach"] = false });

        Assert.True(added.Ok, added.Json);
        Assert.Equal(0, Assert.Single(_sinkFactory.Made).Frames);
        Assert.Equal(["vnc0"], _router.SinkIds);
    }

    [Theory]
    [InlineData("""{"type":"colour-sink","id":"vnc0"}""", RuntimeDisplaySinks.IdTakenCode, "already has a device with id 'vnc0'")]
    [InlineData("""{"type":"colour-sink","id":"gpu0"}""", RuntimeDisplaySinks.IdTakenCode, "'gpu0'")]
    [InlineData("""{"type":"colour-sink","id":"bad id"}""", ControlErrorCodes.InvalidArguments, "args.id")]
    [InlineData("""{"type":"no-such-type","id":"x"}""", RuntimeDisplaySinks.UnknownDeviceTypeCode, "loaded types: colour-sink, display-png, not-a-sink")]
    [InlineData("""{"type":"colour-sink","id":"x","plugin":"other"}""", RuntimeDisplaySinks.UnknownDeviceTypeCode, "plugin 'other'")]
    [InlineData("""{"type":"not-a-sink","id":"x"}""", RuntimeDisplaySinks.NotADisplaySinkCode, "'not-a-sink' of plugin 'display' is not a display sink")]
    [InlineData("""{"type":"colour-sink","id":"x","options":{"port":70000}}""", ControlErrorCodes.InvalidArguments, "args.options.port: must be 0 to 65535, not 70000.")]
    [InlineData("""{"type":"colour-sink","id":"x","options":{"prot":1}}""", ControlErrorCodes.InvalidArguments, "args.options.prot")]
    [InlineData("""{"type":"colour-sink","id":"x","options":[1]}""", ControlErrorCodes.InvalidArguments, "args.options: expected an object")]
    [InlineData("""{"id":"x"}""", ControlErrorCodes.InvalidArguments, "args.type")]
    public async Task Add_sink_mistakes_are_errors_and_make_nothing(string args, string code, string expected)
    {
        ControlResponse reply = await SendAsync("display-add-sink", JsonNode.Parse(args)!.AsObject());

        AssertError(reply, code, expected);
        Assert.Empty(_sinkFactory.Made);
        Assert.Equal(["vnc0"], _router.Sinks.Select(s => s.Id));
    }

    [Fact]
    public async Task Remove_sink_refuses_a_config_sink_and_an_unknown_one()
    {
        ControlResponse config = await SendAsync("display-remove-sink", new JsonObject { ["id"] = "vnc0" });
        ControlResponse unknown = await SendAsync("display-remove-sink", new JsonObject { ["id"] = "vnc9" });

        AssertError(config, RuntimeDisplaySinks.SinkFromConfigCode, "detach it instead");
        AssertError(unknown, DisplayArgs.NoSuchSinkCode, "vnc9");
        Assert.False(_configSink.Disposed);
    }

    [Fact]
    public async Task Screenshot_without_a_snapshot_sink_takes_the_active_sources_frame_through_a_temporary_sink()
    {
        // The fake vnc0 can write snapshots; without it the VM has no snapshot-capable sink at all.
        _router.RemoveSink("vnc0");
        await SendAsync("display-switch-source", new JsonObject { ["id"] = "pattern0" });
        string path = Path.Combine(_directory, "shot.txt");

        ControlResponse reply = await SendAsync("screenshot", new JsonObject { ["path"] = path });

        Assert.True(reply.Ok, reply.Json);
        Assert.Equal(
            $$"""{"sink":null,"path":{{JsonSerializer.Serialize(path)}},"format":"txt","width":4,"height":2,"frameSequence":2,"source":"pattern0"}""",
            reply.Result.GetRawText());
        Assert.Equal("colour 34", await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
        ColourSink temporary = Assert.Single(_pngFactory.Made);
        Assert.True(temporary.Disposed);
        Assert.StartsWith("vmm:screenshot-", temporary.Id, StringComparison.Ordinal);
        Assert.Empty(_router.Sinks);
    }

    private async Task<ControlResponse> SendAsync(string command, JsonObject args)
    {
        await using ControlClient client = await ControlClient.ConnectAsync(_server.SocketPath, TestContext.Current.CancellationToken);
        return await client.SendAsync(command, args, TestContext.Current.CancellationToken);
    }

    private static void AssertError(ControlResponse reply, string code, string messagePart)
    {
        Assert.False(reply.Ok, reply.Json);
        Assert.Equal(code, reply.ErrorCode);
        Assert.Contains(messagePart, reply.ErrorMessage, StringComparison.Ordinal);
    }
}
