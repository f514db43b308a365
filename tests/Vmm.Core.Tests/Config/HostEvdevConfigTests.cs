using Vmm.Contracts.Input;
using Vmm.Core.Config;
using Xunit;

namespace Vmm.Core.Tests.Config;

/// <summary>The <c>input.evdev</c> section: host evdev devices whose events go to the guest.</summary>
public sealed class HostEvdevConfigTests : IDisposable
{
    private readonly ConfigFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void Evdev_sources_are_read_with_absolute_paths_kinds_and_targets()
    {
        string events = _fixture.CreateFile("event3");
        VmSpec spec = _fixture.Spec("""
            {
              "devices": [ { "id": "kbd0", "plugin": "fake", "type": "fake-dev" } ],
              "input": { "evdev": [ { "path": "event3", "kind": "keyboard", "device": "kbd0" }, { "path": "event3", "kind": "tablet" } ] }
            }
            """);

        Assert.Equal(
            [new HostEvdevSpec(events, InputDeviceKind.Keyboard, "kbd0"), new HostEvdevSpec(events, InputDeviceKind.Tablet, null)],
            spec.HostEvdevSources);
    }

    [Fact]
    public void No_input_section_means_no_sources()
    {
        Assert.Empty(_fixture.Spec("{}").HostEvdevSources);
    }

    [Fact]
    public void Evdev_errors_name_their_json_paths()
    {
        _fixture.CreateFile("event3");
        Assert.Equal(
            [
                $"$.input.evdev[0].path: file '{_fixture.Directory}/missing' does not exist",
                "$.input.evdev[1].kind: expected one of \"keyboard\", \"mouse\", \"tablet\", \"gamepad\", got string \"joystick\"",
                "$.input.evdev[2].device: expected the id of a configured device, got 'nope'",
                "$.input.evdev[3].path: expected the path of a host evdev device such as \"/dev/input/event3\", got nothing",
                "$.input.evdev[3].kind: expected one of \"keyboard\", \"mouse\", \"tablet\", \"gamepad\", got nothing",
            ],
            _fixture.Errors("""
                { "input": { "evdev": [
                    { "path": "missing", "kind": "keyboard" },
                    { "path": "event3", "kind": "joystick" },
                    { "path": "event3", "kind": "mouse", "device": "nope" },
                    { }
                ] } }
                """));
    }

    [Fact]
    public void Evdev_must_be_an_array_of_known_members()
    {
        Assert.Equal(["$.input.evdev: expected an array of host evdev sources, got string \"x\""], _fixture.Errors("""{ "input": { "evdev": "x" } }"""));
        Assert.Equal(["$.input.evdev[0].grab: expected one of the members path, kind, device, got unknown member 'grab'"], _fixture.Errors("""{ "input": { "evdev": [ { "grab": true } ] } }""").Take(1).ToArray());
    }
}
