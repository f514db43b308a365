using Xunit;

namespace Vmm.Core.Tests.Config;

/// <summary>
/// Values a fuzzer (or a careless generator) writes: a NUL anywhere, paths Linux cannot use. Each is one line
/// with its JSON path, never a .NET exception.
/// </summary>
public sealed class HostileValueTests : IDisposable
{
    private readonly ConfigFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Theory]
    [InlineData("""{ "machine": { "kernel": "\u0000" } }""", "$.machine.kernel")]
    [InlineData("""{ "machine": { "initrd": "boot/\u0000initrd" } }""", "$.machine.initrd")]
    [InlineData("""{ "input": { "evdev": [ { "path": "/dev/input/event0\u0000", "kind": "keyboard" } ] } }""", "$.input.evdev[0].path")]
    [InlineData("""{ "devices": [ { "id": "d0", "plugin": "fake", "type": "fake-device", "options": { "sharedDir": "/tmp/\u0000" } } ] }""", "$.devices[0].options.sharedDir")]
    [InlineData("""{ "plugins": { "paths": [ "\u0000" ] } }""", "$.plugins.paths[0]")]
    [InlineData("""{ "control": { "socket": "/tmp/s\u0000ck" } }""", "$.control.socket")]
    public void Nul_InAString_IsOneLineWithItsPath(string json, string path)
    {
        Assert.Equal([$"{path}: expected a string without NUL characters, got one with \\u0000"], _fixture.Errors(json));
    }

    [Fact]
    public void Nul_InAMemberName_IsReported()
    {
        string[] errors = _fixture.Errors("""{ "machine": { "ker\u0000nel": "x" } }""");

        Assert.Equal(["$.machine: expected member names without NUL characters, got 'ker\\u0000nel'"], errors);
    }

    [Fact]
    public void Kernel_LongerThanPathMax_IsReported()
    {
        string path = "/" + string.Join('/', Enumerable.Repeat(new string('a', 200), 25));

        string[] errors = _fixture.Errors($$"""{ "machine": { "kernel": "{{path}}" } }""");

        Assert.Equal([$"$.machine.kernel: expected a path of at most 4095 bytes, got {path.Length} bytes"], errors);
    }

    [Fact]
    public void PluginPath_WithANameLongerThanNameMax_IsReported()
    {
        string[] errors = _fixture.Errors($$"""{ "plugins": { "paths": [ "{{new string('p', 300)}}" ] } }""");

        Assert.Equal(["$.plugins.paths[0]: expected path components of at most 255 bytes, got one of 300 bytes"], errors);
    }
}
