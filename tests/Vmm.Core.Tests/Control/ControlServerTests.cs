using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Contracts;
using Vmm.Core.Control;
using Xunit;

namespace Vmm.Core.Tests.Control;

public sealed class ControlServerTests : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "vmm-ctl-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeVm _vm = new();
    private readonly ControlCommandRegistry _commands = new();
    private readonly ControlServer _server;

    public ControlServerTests()
    {
        _commands.Add(new StatusCommand(_vm));
        _commands.Add(new StopCommand(_vm));
        _server = new ControlServer(Path.Combine(_directory, "vm.sock"), _commands);
        _server.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Task<ControlClient> ConnectAsync() => ControlClient.ConnectAsync(_server.SocketPath, TestContext.Current.CancellationToken);

    private static JsonElement Parse(string line) => JsonDocument.Parse(line).RootElement;

    [Fact]
    public async Task Status_ReportsTheVm()
    {
        await using ControlClient client = await ConnectAsync();

        ControlResponse reply = await client.SendAsync("status", cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(reply.Ok);
        Assert.Equal(
            """{"state":"running","platform":"kvm","uptimeSeconds":12.5,"vcpus":2,"memoryBytes":268435456,"devices":[{"id":"rng0","type":"virtio-rng","state":"active"},{"id":"vsock0","type":"virtio-vsock","state":"active","options":{"guestCid":3,"uds":"/tmp/vm.vsock"}}]}""",
            reply.Result.GetRawText());
        Assert.StartsWith("""{"v":1,"id":1,"ok":true,"result":""", reply.Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_RepliesAndAsksTheVmToStop()
    {
        await using ControlClient client = await ConnectAsync();

        ControlResponse reply = await client.SendAsync("stop", cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(reply.Ok);
        Assert.True(reply.Result.GetProperty("stopping").GetBoolean());
        Assert.Equal(1, _vm.StopRequests);
    }

    [Fact]
    public async Task UnknownCommand_IsAnErrorReply_AndTheConnectionGoesOn()
    {
        await using ControlClient client = await ConnectAsync();

        string reply = await client.SendLineAsync("""{"v":1,"id":7,"command":"reboot","args":{}}""", TestContext.Current.CancellationToken);
        ControlResponse next = await client.SendAsync("status", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("""{"v":1,"id":7,"ok":false,"error":{"code":"unknown-command","message":"expected one of the commands status, stop, got 'reboot'"}}""", reply);
        Assert.True(next.Ok);
    }

    [Theory]
    [InlineData("not json", "malformed-request", null)]
    [InlineData("[1,2]", "malformed-request", null)]
    [InlineData("""{"v":1,"id":3}""", "malformed-request", 3)]
    [InlineData("""{"v":1,"id":4,"command":"status","args":[]}""", "malformed-request", 4)]
    [InlineData("""{"v":1,"id":5,"command":"status"} {}""", "malformed-request", null)]
    [InlineData("""{"v":2,"id":6,"command":"status"}""", "unsupported-version", 6)]
    [InlineData("""{"id":8,"command":"status"}""", "unsupported-version", 8)]
    public async Task BadLine_IsAnErrorReply_AndTheConnectionGoesOn(string line, string code, int? id)
    {
        await using ControlClient client = await ConnectAsync();

        JsonElement reply = Parse(await client.SendLineAsync(line, TestContext.Current.CancellationToken));
        ControlResponse next = await client.SendAsync("status", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, reply.GetProperty("v").GetInt32());
        Assert.False(reply.GetProperty("ok").GetBoolean());
        Assert.Equal(code, reply.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(id is null ? "null" : id.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), reply.GetProperty("id").GetRawText());
        Assert.True(next.Ok);
    }

    [Fact]
    public async Task NotJson_IsAnsweredInOurWords_NotWithTheParsersException()
    {
        await using ControlClient client = await ConnectAsync();

        JsonElement reply = Parse(await client.SendLineAsync("""{"v":1, nope}""", TestContext.Current.CancellationToken));

        Assert.Equal("expected a JSON object, got invalid JSON at byte 9", reply.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task StringIdsAndCrLf_AreAccepted()
    {
        await using ControlClient client = await ConnectAsync();

        JsonElement reply = Parse(await client.SendLineAsync("{\"v\":1,\"id\":\"abc\",\"command\":\"status\"}\r", TestContext.Current.CancellationToken));

        Assert.Equal("abc", reply.GetProperty("id").GetString());
        Assert.True(reply.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task OversizeLine_IsAnErrorReply_AndTheNextRequestWorks()
    {
        await using ControlClient client = await ConnectAsync();
        string huge = """{"v":1,"id":1,"command":"status","args":{"pad":" """ + new string('a', ControlProtocol.MaxLineBytes) + "\"}}";

        JsonElement reply = Parse(await client.SendLineAsync(huge, TestContext.Current.CancellationToken));
        ControlResponse next = await client.SendAsync("status", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("line-too-long", reply.GetProperty("error").GetProperty("code").GetString());
        Assert.True(next.Ok, next.Json);
    }

    [Fact]
    public async Task TwoClients_AreServedAtOnce()
    {
        TaskCompletionSource release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _commands.Add(new DelegateCommand("block", async (_, ct) =>
        {
            entered.SetResult();
            await release.Task.WaitAsync(ct);
            return new JsonObject { ["released"] = true };
        }));
        await using ControlClient first = await ConnectAsync();
        await using ControlClient second = await ConnectAsync();

        Task<ControlResponse> blocked = first.SendAsync("block", cancellationToken: TestContext.Current.CancellationToken);
        await entered.Task.WaitAsync(TestContext.Current.CancellationToken);
        ControlResponse status = await second.SendAsync("status", cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(blocked.IsCompleted);
        release.SetResult();

        Assert.True(status.Ok);
        Assert.True((await blocked).Result.GetProperty("released").GetBoolean());
    }

    [Fact]
    public async Task FailingCommands_BecomeErrorReplies()
    {
        _commands.Add(new DelegateCommand("boom", (_, _) => throw new InvalidOperationException("kaput")));
        _commands.Add(new DelegateCommand("refuse", (_, _) => throw new ControlCommandException("invalid-state", "the VM is stopped")));
        await using ControlClient client = await ConnectAsync();

        ControlResponse boom = await client.SendAsync("boom", cancellationToken: TestContext.Current.CancellationToken);
        ControlResponse refuse = await client.SendAsync("refuse", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(("internal-error", "InvalidOperationException: kaput"), (boom.ErrorCode, boom.ErrorMessage));
        Assert.Equal(("invalid-state", "the VM is stopped"), (refuse.ErrorCode, refuse.ErrorMessage));
    }

    [Fact]
    public async Task Args_ReachTheCommand()
    {
        _commands.Add(new DelegateCommand("echo", (args, _) => Task.FromResult<JsonNode?>(JsonNode.Parse(args.GetRawText()))));
        await using ControlClient client = await ConnectAsync();

        ControlResponse reply = await client.SendAsync("echo", new JsonObject { ["key"] = "value", ["n"] = 3 }, TestContext.Current.CancellationToken);

        Assert.Equal("""{"key":"value","n":3}""", reply.Result.GetRawText());
    }

    [Fact]
    public async Task AReplyComputedAsTheServerStops_StillReachesTheClient()
    {
        // As "stop" does in vmm run: the command ends the run, and the end of the run stops this server.
        Task? stopping = null;
        _commands.Add(new DelegateCommand("last-word", async (_, cancellationToken) =>
        {
            stopping = _server.StopAsync();
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            return new JsonObject { ["said"] = true };
        }));
        await using ControlClient client = await ConnectAsync();

        ControlResponse reply = await client.SendAsync("last-word", cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(reply.Result.GetProperty("said").GetBoolean());
        await stopping!.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(File.Exists(_server.SocketPath));
    }

    [Fact]
    public async Task ALineReadBeforeTheServerStops_IsAnsweredCancelled_NotRun()
    {
        int runs = 0;
        _commands.Add(new DelegateCommand("last-word", async (args, cancellationToken) =>
        {
            _ = _server.StopAsync();
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            return new JsonObject { ["said"] = true };
        }));
        _commands.Add(new DelegateCommand("after", (_, _) =>
        {
            Interlocked.Increment(ref runs);
            return Task.FromResult<JsonNode?>(null);
        }));
        using Socket socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(_server.SocketPath), TestContext.Current.CancellationToken);
        await using NetworkStream stream = new(socket);
        using StreamReader reader = new(stream);

        // Both requests in one write: the second is read together with the first, before the server stops.
        byte[] requests = System.Text.Encoding.UTF8.GetBytes("{\"v\":1,\"id\":1,\"command\":\"last-word\"}\n{\"v\":1,\"id\":2,\"command\":\"after\"}\n");
        await stream.WriteAsync(requests, TestContext.Current.CancellationToken);
        JsonElement first = Parse((await reader.ReadLineAsync(TestContext.Current.CancellationToken))!);
        JsonElement second = Parse((await reader.ReadLineAsync(TestContext.Current.CancellationToken))!);

        Assert.True(first.GetProperty("result").GetProperty("said").GetBoolean());
        Assert.Equal(2, second.GetProperty("id").GetInt32());
        Assert.Equal("cancelled", second.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task Stop_RemovesTheSocketFile_AndClosesConnections()
    {
        await using ControlClient client = await ConnectAsync();
        Assert.True(File.Exists(_server.SocketPath));

        await _server.StopAsync();

        Assert.False(File.Exists(_server.SocketPath));
        await Assert.ThrowsAnyAsync<Exception>(() => client.SendAsync("status", cancellationToken: TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<SocketException>(() => ControlClient.ConnectAsync(_server.SocketPath, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ASecondServerOnALiveSocket_Fails()
    {
        await using ControlServer second = new(_server.SocketPath, new ControlCommandRegistry());

        VmmException error = Assert.Throws<VmmException>(second.Start);

        Assert.Contains("in use by another process", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStaleSocketFile_IsReplaced()
    {
        // .NET unlinks the sockets it binds when they are disposed, so a file nobody listens on stands in for
        // the socket a crashed VM left behind.
        string path = Path.Combine(_directory, "stale.sock");
        await File.WriteAllTextAsync(path, "", TestContext.Current.CancellationToken);

        await using ControlServer server = new(path, _commands);
        server.Start();
        await using ControlClient client = await ControlClient.ConnectAsync(path, TestContext.Current.CancellationToken);

        Assert.True((await client.SendAsync("status", cancellationToken: TestContext.Current.CancellationToken)).Ok);
    }
}
