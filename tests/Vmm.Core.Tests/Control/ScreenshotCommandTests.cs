using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Contracts.Display;
using Vmm.Core.Control;
using Vmm.Core.Display;
using Xunit;

namespace Vmm.Core.Tests.Control;

/// <summary>The <c>screenshot</c> command over a real control socket, with fake sinks in a real display router.</summary>
public sealed class ScreenshotCommandTests : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vmm-shot-").FullName;
    private readonly DisplayRouter _router = new();
    private readonly ControlServer _server;

    public ScreenshotCommandTests()
    {
        ControlCommandRegistry commands = new();
        commands.Add(new ScreenshotCommand(_router));
        _server = new ControlServer(Path.Combine(_directory, "vm.sock"), commands);
        _server.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Writes_through_the_attached_snapshot_sink_and_reports_its_size()
    {
        var plain = new PlainSink("vnc0");
        var snapshot = new FakeSnapshotSink("png0") { Held = new DisplaySnapshotInfo(1280, 800, 17) };
        _router.AddSink(plain);
        _router.AddSink(snapshot);
        string path = Path.Combine(_directory, "shot.txt");

        ControlResponse reply = await SendAsync(new JsonObject { ["path"] = path });

        Assert.True(reply.Ok, reply.Json);
        Assert.Equal(
            $$"""{"sink":"png0","path":{{JsonSerializer.Serialize(path)}},"format":"txt","width":1280,"height":800,"frameSequence":17}""",
            reply.Result.GetRawText());
        Assert.Equal("png0 1280x800", await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Prefers_an_attached_sink_and_obeys_an_explicit_one()
    {
        var detached = new FakeSnapshotSink("a-detached") { Held = new DisplaySnapshotInfo(1, 1, 1) };
        var attached = new FakeSnapshotSink("b-attached") { Held = new DisplaySnapshotInfo(2, 2, 2) };
        _router.AddSink(detached, attach: false);
        _router.AddSink(attached);

        ControlResponse byDefault = await SendAsync(new JsonObject { ["path"] = Path.Combine(_directory, "1.txt") });
        ControlResponse named = await SendAsync(new JsonObject { ["path"] = Path.Combine(_directory, "2.txt"), ["sink"] = "a-detached" });

        Assert.Equal("b-attached", byDefault.Result.GetProperty("sink").GetString());
        Assert.Equal("a-detached", named.Result.GetProperty("sink").GetString());
        Assert.Single(detached.WrittenPaths);
        Assert.Single(attached.WrittenPaths);
    }

    [Fact]
    public async Task An_unknown_sink_is_no_such_sink()
    {
        _router.AddSink(new FakeSnapshotSink("png0") { Held = new DisplaySnapshotInfo(1, 1, 1) });

        ControlResponse reply = await SendAsync(new JsonObject { ["path"] = Path.Combine(_directory, "x.png"), ["sink"] = "png9" });

        AssertError(reply, ScreenshotCommand.NoSuchSinkCode, "png9");
    }

    [Fact]
    public async Task No_snapshot_capable_sink_is_an_error_naming_the_fix()
    {
        _router.AddSink(new PlainSink("vnc0"));

        ControlResponse none = await SendAsync(new JsonObject { ["path"] = Path.Combine(_directory, "x.png") });
        ControlResponse named = await SendAsync(new JsonObject { ["path"] = Path.Combine(_directory, "x.png"), ["sink"] = "vnc0" });

        AssertError(none, ScreenshotCommand.NoSnapshotSinkCode, "display-png");
        AssertError(named, ScreenshotCommand.NoSnapshotSinkCode, "'vnc0' cannot write snapshots");
        Assert.False(File.Exists(Path.Combine(_directory, "x.png")));
    }

    [Fact]
    public async Task Before_the_first_frame_it_is_no_frame_and_nothing_is_written()
    {
        _router.AddSink(new FakeSnapshotSink("png0"));
        string path = Path.Combine(_directory, "early.png");

        ControlResponse reply = await SendAsync(new JsonObject { ["path"] = path });

        AssertError(reply, ScreenshotCommand.NoFrameCode, "no frame yet");
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task An_unwritable_path_is_path_not_writable()
    {
        _router.AddSink(new FakeSnapshotSink("png0") { Held = new DisplaySnapshotInfo(1, 1, 1) });
        string path = Path.Combine(_directory, "no-such-folder", "x.png");

        ControlResponse reply = await SendAsync(new JsonObject { ["path"] = path });

        AssertError(reply, ScreenshotCommand.PathNotWritableCode, path);
    }

    [Theory]
    [InlineData("""{}""", "args.path")]
    [InlineData("""{"path":7}""", "args.path")]
    [InlineData("""{"path":"relative/x.png"}""", "absolute path")]
    [InlineData("""{"path":"/tmp/x.png","sink":5}""", "args.sink")]
    public async Task Bad_args_are_invalid_args(string args, string expected)
    {
        _router.AddSink(new FakeSnapshotSink("png0") { Held = new DisplaySnapshotInfo(1, 1, 1) });

        ControlResponse reply = await SendAsync(JsonNode.Parse(args)!.AsObject());

        AssertError(reply, ControlErrorCodes.InvalidArguments, expected);
    }

    private async Task<ControlResponse> SendAsync(JsonObject args)
    {
        await using ControlClient client = await ControlClient.ConnectAsync(_server.SocketPath, TestContext.Current.CancellationToken);
        return await client.SendAsync("screenshot", args, TestContext.Current.CancellationToken);
    }

    private static void AssertError(ControlResponse reply, string code, string messagePart)
    {
        Assert.False(reply.Ok, reply.Json);
        Assert.Equal(code, reply.ErrorCode);
        Assert.Contains(messagePart, reply.ErrorMessage, StringComparison.Ordinal);
    }

    private sealed class PlainSink(string id) : IDisplaySink
    {
        public string Id => id;

        public void OnModeChanged(DisplayMode mode)
        {
        }

        public void OnFrame(DisplayFrame frame)
        {
        }

        public void OnCursorShape(CursorShape shape)
        {
        }

        public void OnCursorPosition(CursorPosition position)
        {
        }

        public void Dispose()
        {
        }
    }
}
