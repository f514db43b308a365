using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Contracts.Input;
using Vmm.Core.Control;
using Vmm.Core.Input;
using Xunit;

namespace Vmm.Core.Tests.Input;

public sealed class ControlInputCommandTests
{
    [Fact]
    public async Task Named_and_numbered_events_reach_the_device_with_a_syn_report()
    {
        using var router = new InputRouter();
        var keyboard = new RecordingInputTarget("kbd0", InputDeviceKind.Keyboard);
        router.AddTarget(keyboard);
        var command = new ControlInputCommand(router);

        JsonNode? result = await command.ExecuteAsync(Args("""{"kind":"keyboard","events":[{"type":"key","code":30,"value":1},{"type":1,"code":30}]}"""), CancellationToken.None);

        Assert.Equal([[new(1, 30, 1), new(1, 30, 0), InputEvent.SynReport]], keyboard.Batches);
        Assert.Equal("kbd0", result!["device"]!.GetValue<string>());
        Assert.Equal(2, result["events"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_device_id_selects_the_device()
    {
        using var router = new InputRouter();
        var first = new RecordingInputTarget("t0", InputDeviceKind.Tablet);
        var second = new RecordingInputTarget("t1", InputDeviceKind.Tablet);
        router.AddTarget(first);
        router.AddTarget(second);

        await new ControlInputCommand(router).ExecuteAsync(Args("""{"kind":"tablet","device":"t1","events":[{"type":"abs","code":0,"value":-1}]}"""), CancellationToken.None);

        Assert.Empty(first.Batches);
        Assert.Equal([[new(3, 0, -1), InputEvent.SynReport]], second.Batches);
    }

    [Theory]
    [InlineData("""{"events":[{"type":"key","code":1}]}""", "invalid-args", "args.kind")]
    [InlineData("""{"kind":"joystick","events":[{"type":"key","code":1}]}""", "invalid-args", "args.kind")]
    [InlineData("""{"kind":"keyboard"}""", "invalid-args", "args.events")]
    [InlineData("""{"kind":"keyboard","events":[]}""", "invalid-args", "args.events")]
    [InlineData("""{"kind":"keyboard","events":[{"type":"bogus","code":1}]}""", "invalid-args", "args.events[0].type")]
    [InlineData("""{"kind":"keyboard","events":[{"type":"key","code":1},{"type":"key","code":99999}]}""", "invalid-args", "args.events[1].code")]
    [InlineData("""{"kind":"keyboard","events":[{"type":"key","code":1,"value":1.5}]}""", "invalid-args", "args.events[0].value")]
    [InlineData("""{"kind":"keyboard","events":[{"type":"key","code":1,"value":4294967296}]}""", "invalid-args", "args.events[0].value")]
    [InlineData("""{"kind":"keyboard","events":[7]}""", "invalid-args", "args.events[0]")]
    [InlineData("""{"kind":"keyboard","device":3,"events":[{"type":"key","code":1}]}""", "invalid-args", "args.device")]
    [InlineData("""{"kind":"mouse","events":[{"type":"rel","code":0,"value":1}]}""", "no-input-device", "mouse")]
    [InlineData("""{"kind":"keyboard","device":"kbd9","events":[{"type":"key","code":1}]}""", "no-input-device", "kbd9")]
    public async Task Bad_requests_fail_with_a_code_and_the_path(string json, string code, string messagePart)
    {
        using var router = new InputRouter();
        var keyboard = new RecordingInputTarget("kbd0", InputDeviceKind.Keyboard);
        router.AddTarget(keyboard);

        var error = await Assert.ThrowsAsync<ControlCommandException>(async () => await new ControlInputCommand(router).ExecuteAsync(Args(json), CancellationToken.None));

        Assert.Equal(code, error.Code);
        Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);
        Assert.Empty(keyboard.Batches);
    }

    [Fact]
    public void The_command_registers_under_its_name()
    {
        using var router = new InputRouter();
        var registry = new ControlCommandRegistry();

        registry.Add(new ControlInputCommand(router));

        Assert.True(registry.TryGet("input", out IControlCommand? command));
        Assert.IsType<ControlInputCommand>(command);
    }

    private static JsonElement Args(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
