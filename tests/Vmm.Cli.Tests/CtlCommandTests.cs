using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Control;
using Xunit;

namespace Vmm.Cli.Tests;

public sealed class CtlCommandTests : IAsyncDisposable
{
    private readonly CliFixture _fixture = new();
    private readonly CliRunner _cli = new();
    private readonly ControlServer _server;

    public CtlCommandTests()
    {
        ControlCommandRegistry commands = new();
        commands.Add(new EchoCommand());
        commands.Add(new EchoCommand("screenshot"));
        _server = new ControlServer(Path.Combine(_fixture.Directory, "vm.sock"), commands);
        _server.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _fixture.Dispose();
    }

    [Fact]
    public async Task Ok_PrintsTheReply_Exit0()
    {
        CliResult result = await _cli.RunAsync("ctl", "--socket", _server.SocketPath, "echo", "--arg", "n=7", "--arg", "name=rng0", "--arg", "on=true", "--arg", "obj={\"a\":[1]}");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""{"v":1,"id":1,"ok":true,"result":{"n":7,"name":"rng0","on":true,"obj":{"a":[1]}}}""", result.Out.Trim());
    }

    [Fact]
    public async Task ErrorReply_IsPrinted_Exit6()
    {
        CliResult result = await _cli.RunAsync("ctl", "--socket", _server.SocketPath, "reboot");

        Assert.Equal(6, result.ExitCode);
        Assert.Equal("unknown-command", JsonDocument.Parse(result.Out).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task NoServer_Exit6()
    {
        string missing = Path.Combine(_fixture.Directory, "none.sock");

        CliResult result = await _cli.RunAsync("ctl", "-s", missing, "status");

        Assert.Equal(6, result.ExitCode);
        Assert.Equal($"vmm: control request to '{missing}' failed: no such socket; is the VM running? (its config's control.socket names the path)", result.Error.Trim());
    }

    [Fact]
    public async Task LeftoverSocketNobodyListensOn_SaysTheVmStopped()
    {
        string leftover = Path.Combine(_fixture.Directory, "leftover.sock");
        // Bound but not listening, as a socket file left by a VM that died is (a disposed socket removes its file).
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(leftover));

        CliResult result = await _cli.RunAsync("ctl", "--socket", leftover, "status");

        Assert.Equal(6, result.ExitCode);
        Assert.Equal($"vmm: control request to '{leftover}' failed: nothing listens on it; the VM that made it has stopped", result.Error.Trim());
    }

    [Fact]
    public async Task BadArg_IsAUsageError()
    {
        CliResult result = await _cli.RunAsync("ctl", "--socket", _server.SocketPath, "echo", "--arg", "novalue");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("vmm: --arg expects key=value, got 'novalue'", result.Error.Trim());
    }

    [Fact]
    public async Task Screenshot_SendsTheAbsolutePathAndSink()
    {
        CliResult result = await _cli.RunAsync("ctl", "--socket", _server.SocketPath, "screenshot", "/tmp/shot.png", "--sink", "png1");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""{"v":1,"id":1,"ok":true,"result":{"path":"/tmp/shot.png","sink":"png1"}}""", result.Out.Trim());
    }

    [Fact]
    public async Task Screenshot_MakesARelativePathAbsolute_AndLeavesTheSinkOut()
    {
        CliResult result = await _cli.RunAsync("ctl", "screenshot", "shots/a.png", "-s", _server.SocketPath);

        Assert.Equal(0, result.ExitCode);
        JsonElement args = JsonDocument.Parse(result.Out).RootElement.GetProperty("result");
        Assert.Equal(Path.GetFullPath("shots/a.png"), args.GetProperty("path").GetString());
        Assert.False(args.TryGetProperty("sink", out _));
    }

    [Fact]
    public async Task Screenshot_WithoutAFile_IsAUsageError()
    {
        CliResult result = await _cli.RunAsync("ctl", "--socket", _server.SocketPath, "screenshot");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("FILE", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Screenshot_ErrorReply_Exit6()
    {
        CliResult result = await _cli.RunAsync("ctl", "--socket", _server.SocketPath, "screenshot", "/tmp/x.png", "--sink", "fail");

        Assert.Equal(6, result.ExitCode);
        Assert.Equal("no-such-sink", JsonDocument.Parse(result.Out).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private sealed class EchoCommand(string name = "echo") : IControlCommand
    {
        public string Name => name;

        public string Description => "Returns its args.";

        public ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken) =>
            args.TryGetProperty("sink", out JsonElement sink) && sink.GetString() == "fail"
                ? throw new ControlCommandException("no-such-sink", "no sink 'fail'")
                : ValueTask.FromResult(JsonNode.Parse(args.GetRawText()));
    }
}
