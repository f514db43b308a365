using Xunit;

namespace Vmm.Core.Tests.Config;

public sealed class VmConfigReaderTests : IDisposable
{
    private readonly ConfigFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void EmptyObject_IsValid_WithDefaults()
    {
        Core.Config.VmSpec spec = _fixture.Spec("{}");

        Assert.Equal(256UL << 20, spec.Machine.MemoryBytes);
        Assert.Equal(1, spec.Machine.Vcpus);
        Assert.Null(spec.Machine.KernelPath);
        Assert.Equal("console=ttyS0", spec.Machine.CommandLine);
        Assert.Equal(Core.Config.PlatformKind.Auto, spec.Platform);
        Assert.Empty(spec.Devices);
        Assert.Null(spec.Display);
        Assert.Null(spec.Control);
    }

    [Fact]
    public void CommentsAndTrailingCommas_AreAllowed()
    {
        Core.Config.VmSpec spec = _fixture.Spec("""
            // a VM
            {
              /* block */ "machine": { "vcpus": 2, },
            }
            """);

        Assert.Equal(2, spec.Machine.Vcpus);
    }

    [Fact]
    public void SyntaxError_IsOneErrorWithLineAndColumn()
    {
        Assert.Equal(
            ["$: expected a JSON document, got a syntax error at line 2, column 13: '{' is invalid after a property name. Expected a ':'."],
            _fixture.Errors("{\n  \"machine\" {}\n}"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n\t")]
    public void EmptyText_IsOneErrorSayingSo(string json)
    {
        Assert.Equal(["$: expected a JSON document, got an empty file"], _fixture.Errors(json));
    }

    [Theory]
    [InlineData("{ \"machine\": {} }\0", 1, 18)]
    [InlineData("{\n  \"machine\": { \"memory\": \"25\0M\" } }", 2, 29)]
    [InlineData("\0{}", 1, 1)]
    public void RawNul_IsOneErrorNamingIt_WithItsPosition(string json, int line, int column)
    {
        Assert.Equal([$"$: expected a JSON document, got a NUL character (\\u0000) at line {line}, column {column}"], _fixture.Errors(json));
    }

    [Fact]
    public void RootNotAnObject_IsAnError()
    {
        Assert.Equal(["$: expected an object, got an array"], _fixture.Errors("[1]"));
    }

    [Fact]
    public void UnknownMembers_AreErrors_AtEveryLevel()
    {
        string[] errors = _fixture.Errors("""
            { "colour": 1, "machine": { "memroy": "1G" }, "devices": [ { "id": "a", "plugin": "fake", "type": "fake-dev", "opts": {} } ],
              "display": { "src": "a" }, "control": { "path": "x" }, "plugins": { "dirs": [] } }
            """);

        Assert.Contains("$.colour: expected one of the members machine, platform, plugins, devices, display, control, input, got unknown member 'colour'", errors);
        Assert.Contains("$.machine.memroy: expected one of the members memory, vcpus, kernel, initrd, cmdline, got unknown member 'memroy'", errors);
        Assert.Contains("$.devices[0].opts: expected one of the members id, plugin, type, options, limits, got unknown member 'opts'", errors);
        Assert.Contains("$.display.src: expected one of the members source, sinks, got unknown member 'src'", errors);
        Assert.Contains("$.control.path: expected one of the members socket, got unknown member 'path'", errors);
        Assert.Contains("$.plugins.dirs: expected one of the members paths, builtIn, optional, got unknown member 'dirs'", errors);
    }

    [Fact]
    public void OddMemberName_IsQuotedInThePath()
    {
        Assert.Equal(["$['my key']: expected one of the members machine, platform, plugins, devices, display, control, input, got unknown member 'my key'"], _fixture.Errors("""{ "my key": 1 }"""));
    }

    [Fact]
    public void DuplicateMember_IsAnError()
    {
        Assert.Equal(["$.machine.vcpus: expected each member once, got 'vcpus' again"], _fixture.Errors("""{ "machine": { "vcpus": 1, "vcpus": 2 } }"""));
    }

    [Fact]
    public void SectionsOfTheWrongKind_AreErrors()
    {
        string[] errors = _fixture.Errors("""{ "machine": "big", "devices": {}, "display": [], "control": 1 }""");

        Assert.Equal(
            [
                "$.machine: expected an object, got string \"big\"",
                "$.devices: expected an array of devices, got an object",
                "$.display: expected an object, got an array",
                "$.control: expected an object, got number 1",
            ],
            errors);
    }

    [Fact]
    public void DeviceNotAnObject_IsAnError()
    {
        Assert.Equal(["$.devices[0]: expected an object, got string \"rng0\""], _fixture.Errors("""{ "devices": [ "rng0" ] }"""));
    }
}
