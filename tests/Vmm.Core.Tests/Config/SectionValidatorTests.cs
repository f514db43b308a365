using Xunit;
using Vmm.Core.Config;

namespace Vmm.Core.Tests.Config;

/// <summary>The platform, plugins, display and control sections.</summary>
public sealed class SectionValidatorTests : IDisposable
{
    private readonly ConfigFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Theory]
    [InlineData("auto", PlatformKind.Auto)]
    [InlineData("kvm", PlatformKind.Kvm)]
    [InlineData("qemu", PlatformKind.Qemu)]
    public void Platform_Values(string value, PlatformKind expected)
    {
        Assert.Equal(expected, _fixture.Spec($$"""{ "platform": "{{value}}" }""").Platform);
    }

    [Theory]
    [InlineData("\"KVM\"", "$.platform: expected one of \"auto\", \"kvm\", \"qemu\", got string \"KVM\"")]
    [InlineData("1", "$.platform: expected one of \"auto\", \"kvm\", \"qemu\", got number 1")]
    public void Platform_Errors(string json, string expected)
    {
        Assert.Equal([expected], _fixture.Errors($$"""{ "platform": {{json}} }"""));
    }

    [Fact]
    public void PluginPaths_ResolveAgainstTheConfigFolder_AndAddToTheBuiltInFolder()
    {
        System.IO.Directory.CreateDirectory(Path.Combine(_fixture.Directory, "more"));
        List<PluginSettings> seen = [];
        VmConfig.Parse("""{ "plugins": { "paths": ["more"], "optional": ["x"] } }""", _fixture.Directory, s => { seen.Add(s); return _fixture.Catalog; }, ["/built-in"]);
        VmConfig.Parse("{}", _fixture.Directory, s => { seen.Add(s); return _fixture.Catalog; }, ["/built-in"]);

        Assert.Equal([Path.Combine(_fixture.Directory, "more")], seen[0].Paths);
        Assert.Equal(["/built-in"], seen[0].BuiltInPaths);
        Assert.Equal([Path.Combine(_fixture.Directory, "more"), "/built-in"], seen[0].AllPaths);
        Assert.Equal(["x"], seen[0].Optional);
        Assert.Empty(seen[1].Paths);
        Assert.Equal(["/built-in"], seen[1].BuiltInPaths);
    }

    [Fact]
    public void PluginBuiltIn_False_LeavesTheBuiltInFolderOut()
    {
        System.IO.Directory.CreateDirectory(Path.Combine(_fixture.Directory, "mine"));
        List<PluginSettings> seen = [];

        VmConfig.Parse("""{ "plugins": { "paths": ["mine"], "builtIn": false } }""", _fixture.Directory, s => { seen.Add(s); return _fixture.Catalog; }, ["/built-in"]);

        Assert.Equal([Path.Combine(_fixture.Directory, "mine")], Assert.Single(seen).AllPaths);
        Assert.Empty(seen[0].BuiltInPaths);
    }

    [Fact]
    public void PluginBuiltIn_MustBeABoolean()
    {
        Assert.Equal(["$.plugins.builtIn: expected true or false, got string \"no\""], _fixture.Errors("""{ "plugins": { "builtIn": "no" } }"""));
    }

    [Fact]
    public void PluginSection_Errors()
    {
        Assert.Equal(
            [
                $"$.plugins.paths[0]: folder '{_fixture.Directory}/missing' does not exist",
                "$.plugins.paths[1]: expected a folder path, got number 3",
                "$.plugins.optional: expected an array of strings, got string \"x\"",
            ],
            _fixture.Errors("""{ "plugins": { "paths": ["missing", 3], "optional": "x" } }"""));
    }

    [Fact]
    public void Display_ReferencesConfiguredDevices()
    {
        _fixture.Catalog = new FakePluginCatalog().AddLoaded("fake", new FakeDeviceFactory());
        VmSpec spec = _fixture.Spec("""
            { "devices": [ { "id": "gpu0", "plugin": "fake", "type": "fake-dev" }, { "id": "vnc0", "plugin": "fake", "type": "fake-dev" } ],
              "display": { "source": "gpu0", "sinks": ["vnc0"] } }
            """);

        Assert.Equal("gpu0", spec.Display!.Source);
        Assert.Equal(["vnc0"], spec.Display.Sinks);
    }

    [Fact]
    public void Display_Errors()
    {
        Assert.Equal(
            [
                "$.display.source: expected the id of a configured device (configured: d), got \"gpu0\"",
                "$.display.sinks[0]: expected the id of a configured device (configured: d), got \"vnc0\"",
                "$.display.sinks[1]: expected a device id, got number 1",
            ],
            _fixture.Errors("""{ "devices": [ { "id": "d", "plugin": "fake", "type": "fake-dev" } ], "display": { "source": "gpu0", "sinks": ["vnc0", 1] } }"""));
    }

    [Fact]
    public void Display_WithoutSource_IsAnError()
    {
        Assert.Equal(["$.display.source: expected the id of a display source device, got nothing"], _fixture.Errors("""{ "display": { } }"""));
    }

    [Fact]
    public void Display_SourceOnAnOptionalSkippedDevice_DropsTheDisplayWithAWarning()
    {
        VmConfigResult result = _fixture.Parse("""
            { "plugins": { "optional": ["gpu"] }, "devices": [ { "id": "gpu0", "plugin": "gpu", "type": "virtio-gpu" } ], "display": { "source": "gpu0" } }
            """);

        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Null(result.Spec!.Display);
        Assert.Contains("$.display.source: display source 'gpu0' was skipped; the VM has no display", result.Warnings);
    }

    [Fact]
    public void Control_SocketResolvesAgainstTheConfigFolder()
    {
        Assert.Equal(Path.Combine(_fixture.Directory, "vm.sock"), _fixture.Spec("""{ "control": { "socket": "vm.sock" } }""").Control!.SocketPath);
    }

    [Fact]
    public void Control_Errors()
    {
        string longPath = "/tmp/" + new string('s', 120) + ".sock";

        Assert.Equal(["$.control.socket: expected a Unix socket path, got nothing"], _fixture.Errors("""{ "control": { } }"""));
        Assert.Equal([$"$.control.socket: expected a socket path of at most 107 bytes, got {longPath.Length} bytes ('{longPath}')"], _fixture.Errors($$"""{ "control": { "socket": "{{longPath}}" } }"""));
    }

    [Fact]
    public void UnreadableFile_IsOneError()
    {
        string missing = Path.Combine(_fixture.Directory, "nope.json");

        ConfigError error = Assert.Single(VmConfig.Load(missing, _ => _fixture.Catalog).Errors);

        Assert.Equal($"$: expected a readable config file, got '{missing}': no such file", error.ToString());
    }

    [Fact]
    public void Folder_AsTheConfigFile_IsOneErrorSayingSo()
    {
        ConfigError error = Assert.Single(VmConfig.Load(_fixture.Directory, _ => _fixture.Catalog).Errors);

        Assert.Equal($"$: expected a config file, got the folder '{_fixture.Directory}'", error.ToString());
    }

    [Fact]
    public void BytesThatAreNotUtf8_AreOneErrorWithTheirPosition_NotReplacedSilently()
    {
        string path = Path.Combine(_fixture.Directory, "latin1.json");
        File.WriteAllBytes(path, [.. "{\n  \"machine\": { \"cmdline\": \"caf"u8, 0xE9, .. "\" } }"u8]);

        ConfigError error = Assert.Single(VmConfig.Load(path, _ => _fixture.Catalog).Errors);

        Assert.Equal($"$: expected a UTF-8 text file, got '{path}' with a byte that is not UTF-8 (0xE9) at line 2, column 31", error.ToString());
    }

    [Fact]
    public void Utf8WithAByteOrderMark_IsRead()
    {
        string path = Path.Combine(_fixture.Directory, "bom.json");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. """{ "machine": { "cmdline": "café" } }"""u8]);

        VmConfigResult result = VmConfig.Load(path, _ => _fixture.Catalog, [_fixture.Directory]);

        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Equal("café", result.Spec!.Machine.CommandLine);
    }
}
