using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Control;
using Xunit;

namespace Vmm.Cli.Tests;

/// <summary><c>vmm ctl display ...</c>: each subcommand sends its <c>display*</c> request with the right args.</summary>
public sealed class CtlDisplayCommandTests : IAsyncDisposable
{
    private readonly CliFixture _fixture = new();
    private readonly CliRunner _cli = new();
    private readonly ControlServer _server;

    public CtlDisplayCommandTests()
    {
        ControlCommandRegistry commands = new();
        foreach (string name in (string[])["display", "display-switch-source", "display-attach-sink", "display-detach-sink", "display-add-sink", "display-remove-sink"])
        {
            commands.Add(new NamedEchoCommand(name));
        }

        _server = new ControlServer(Path.Combine(_fixture.Directory, "vm.sock"), commands);
        _server.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _fixture.Dispose();
    }

    [Theory]
    [InlineData("""["display"]""", """{"command":"display","args":{}}""")]
    [InlineData("""["display","switch-source","pattern0"]""", """{"command":"display-switch-source","args":{"id":"pattern0"}}""")]
    [InlineData("""["display","attach-sink","vnc0"]""", """{"command":"display-attach-sink","args":{"id":"vnc0"}}""")]
    [InlineData("""["display","detach-sink","vnc0"]""", """{"command":"display-detach-sink","args":{"id":"vnc0"}}""")]
    [InlineData("""["display","remove-sink","vnc1"]""", """{"command":"display-remove-sink","args":{"id":"vnc1"}}""")]
    [InlineData(
        """["display","add-sink","--type","display-vnc","--id","vnc1","--options","{\"port\":5901}"]""",
        """{"command":"display-add-sink","args":{"type":"display-vnc","id":"vnc1","attach":true,"options":{"port":5901}}}""")]
    [InlineData(
        """["display","add-sink","--type","display-png","--id","png1","--detached","--plugin","display"]""",
        """{"command":"display-add-sink","args":{"type":"display-png","id":"png1","attach":false,"plugin":"display"}}""")]
    public async Task Each_subcommand_sends_its_request(string argsJson, string expectedResult)
    {
        string[] args = [.. JsonSerializer.Deserialize<string[]>(argsJson)!.Prepend(_server.SocketPath).Prepend("--socket").Prepend("ctl")];

        CliResult result = await _cli.RunAsync(args);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(expectedResult, JsonDocument.Parse(result.Out).RootElement.GetProperty("result").GetRawText());
    }

    [Fact]
    public async Task Add_sink_with_options_that_are_not_an_object_is_a_usage_error()
    {
        CliResult result = await _cli.RunAsync("ctl", "--socket", _server.SocketPath, "display", "add-sink", "--type", "display-vnc", "--id", "v", "--options", "5901");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("vmm: --options expects a JSON object, got '5901'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Switch_source_without_an_id_is_a_usage_error()
    {
        CliResult result = await _cli.RunAsync("ctl", "--socket", _server.SocketPath, "display", "switch-source");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ID", result.Error, StringComparison.Ordinal);
    }

    private sealed class NamedEchoCommand(string name) : IControlCommand
    {
        public string Name => name;

        public string Description => "Returns its name and args.";

        public ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken) =>
            ValueTask.FromResult<JsonNode?>(new JsonObject { ["command"] = name, ["args"] = JsonNode.Parse(args.GetRawText()) });
    }
}
