using Xunit;
using Vmm.Core.Config;
using Vmm.Core.Virtio.Execution;

namespace Vmm.Core.Tests.Config;

public sealed class DeviceValidatorTests : IDisposable
{
    private readonly ConfigFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static string Devices(params string[] devices) => $$"""{ "devices": [ {{string.Join(", ", devices)}} ] }""";

    private static string Fake(string id, string? options = null) =>
        $$"""{ "id": "{{id}}", "plugin": "fake", "type": "fake-dev"{{(options is null ? "" : ", \"options\": " + options)}} }""";

    [Fact]
    public void ValidDevice_HasItsFactoryAndParsedOptions()
    {
        VmSpec spec = _fixture.Spec(Devices(Fake("dev0", """{ "rate": 50, "mode": "slowAndSteady", "modes": [ { "width": 640, "height": 480 } ] }""")));

        DeviceSpec device = Assert.Single(spec.Devices);
        Assert.Equal(("dev0", "fake", "fake-dev", "$.devices[0]"), (device.Id, device.Plugin, device.Type, device.ConfigPath));
        Assert.IsType<FakeDeviceFactory>(device.Factory);
        FakeDeviceOptions options = Assert.IsType<FakeDeviceOptions>(device.Options);
        Assert.Equal((50, FakeMode.SlowAndSteady, 640), (options.Rate, options.Mode, options.Modes[0].Width));
    }

    [Fact]
    public void MissingOptions_GiveTheDefaults()
    {
        FakeDeviceOptions options = Assert.IsType<FakeDeviceOptions>(Assert.Single(_fixture.Spec(Devices(Fake("dev0"))).Devices).Options);

        Assert.Equal(10, options.Rate);
    }

    [Fact]
    public void Limits_SetWhatTheyNameOverTheDefaults()
    {
        DeviceSpec plain = Assert.Single(_fixture.Spec(Devices(Fake("dev0"))).Devices);
        Assert.Same(DeviceLimits.Default, plain.Limits);

        string json = Devices("""{ "id": "dev0", "plugin": "fake", "type": "fake-dev", "limits": { "hangSeconds": 5, "fileDescriptors": 256, "threads": 8, "managedMemory": "64M", "sampleEvery": 1 } }""");
        DeviceLimits limits = Assert.Single(_fixture.Spec(json).Devices).Limits;
        Assert.Equal((TimeSpan.FromSeconds(5), 256, 8, 64L << 20, 1), (limits.Hang, limits.FileDescriptors, limits.Threads, limits.ManagedBytes, limits.SampleEvery));

        limits = Assert.Single(_fixture.Spec(Devices("""{ "id": "dev0", "plugin": "fake", "type": "fake-dev", "limits": { "threads": 3 } }""")).Devices).Limits;
        Assert.Equal(DeviceLimits.Default with { Threads = 3 }, limits);
    }

    [Fact]
    public void WrongLimits_AreErrorsWithTheirPaths()
    {
        string json = Devices("""{ "id": "dev0", "plugin": "fake", "type": "fake-dev", "limits": { "fileDescriptors": 0, "managedMemory": "lots", "hang": 3 } }""");
        Assert.Equal(
            [
                "$.devices[0].limits.hang: expected one of the members hangSeconds, fileDescriptors, threads, managedMemory, sampleEvery, got unknown member 'hang'",
                "$.devices[0].limits.fileDescriptors: expected an integer from 1 to 1048576, got number 0",
                "$.devices[0].limits.managedMemory: expected a size of at least 1 MiB such as \"512M\" or \"2G\", or a byte count, got string \"lots\"",
            ],
            _fixture.Errors(json));
    }

    [Fact]
    public void MissingMembers_AreErrors()
    {
        Assert.Equal(
            [
                "$.devices[0].id: expected a device id such as \"rng0\", got nothing",
                "$.devices[0].plugin: expected a plugin name such as \"virtio-rng\", got nothing",
                "$.devices[0].type: expected a device type such as \"virtio-rng\", got nothing",
            ],
            _fixture.Errors(Devices("{}")));
    }

    [Theory]
    [InlineData("\"\"", "$.devices[0].id: expected a device id such as \"rng0\", got an empty string")]
    [InlineData("3", "$.devices[0].id: expected a device id such as \"rng0\", got number 3")]
    [InlineData("\"rng 0\"", "$.devices[0].id: expected an id of letters, digits, '-' and '_', got \"rng 0\"")]
    public void BadId_IsAnError(string id, string expected)
    {
        Assert.Equal([expected], _fixture.Errors(Devices($$"""{ "id": {{id}}, "plugin": "fake", "type": "fake-dev" }""")));
    }

    [Fact]
    public void DuplicateId_NamesTheFirstUse()
    {
        Assert.Equal(
            ["$.devices[2].id: duplicate id 'dev0' (first used at $.devices[0].id)"],
            _fixture.Errors(Devices(Fake("dev0"), Fake("dev1"), Fake("dev0"))));
    }

    [Fact]
    public void UnknownPlugin_ListsTheKnownOnes()
    {
        Assert.Equal(
            ["$.devices[1].plugin: unknown plugin 'foo' (known: fake)"],
            _fixture.Errors(Devices(Fake("dev0"), """{ "id": "x", "plugin": "foo", "type": "fake-dev" }""")));
    }

    [Fact]
    public void UnknownPlugin_WithNoPlugins_SaysNone()
    {
        _fixture.Catalog = new FakePluginCatalog();

        Assert.Equal(["$.devices[0].plugin: unknown plugin 'fake' (known: none)"], _fixture.Errors(Devices(Fake("dev0"))));
    }

    [Fact]
    public void UnknownType_ListsThePluginsTypes()
    {
        Assert.Equal(
            ["$.devices[0].type: plugin 'fake' has no device type 'gpu' (it has: fake-dev)"],
            _fixture.Errors(Devices("""{ "id": "x", "plugin": "fake", "type": "gpu" }""")));
    }

    [Fact]
    public void FailedPlugin_IsAPluginFailure()
    {
        _fixture.Catalog.AddFailed("broken", "Plugin 'broken' targets contract 9.0; this host has 1.0.");

        VmConfigResult result = _fixture.Parse(Devices("""{ "id": "x", "plugin": "broken", "type": "broken-dev" }"""));

        ConfigError error = Assert.Single(result.Errors);
        Assert.Equal("$.devices[0].plugin: plugin 'broken' failed to load: Plugin 'broken' targets contract 9.0; this host has 1.0.", error.ToString());
        Assert.Equal(ConfigErrorKind.PluginFailed, error.Kind);
        Assert.True(result.HasPluginFailures);
    }

    [Fact]
    public void OptionalPlugin_Missing_SkipsTheDeviceWithAWarning()
    {
        VmConfigResult result = _fixture.Parse("""
            { "plugins": { "optional": ["virtio-input"] },
              "devices": [ { "id": "kbd0", "plugin": "virtio-input", "type": "virtio-keyboard" }, { "id": "dev0", "plugin": "fake", "type": "fake-dev" } ] }
            """);

        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Equal("dev0", Assert.Single(result.Spec!.Devices).Id);
        Assert.Equal("$.devices[0].plugin: optional plugin 'virtio-input' was not found; device 'kbd0' is skipped", Assert.Single(result.Warnings));
    }

    [Fact]
    public void OptionalPlugin_Failed_SkipsTheDeviceWithAWarning()
    {
        _fixture.Catalog.AddFailed("broken", "bad manifest");

        VmConfigResult result = _fixture.Parse("""{ "plugins": { "optional": ["broken"] }, "devices": [ { "id": "b", "plugin": "broken", "type": "broken-dev" } ] }""");

        Assert.True(result.IsValid);
        Assert.Empty(result.Spec!.Devices);
        Assert.Equal("$.devices[0].plugin: optional plugin 'broken' did not load (bad manifest); device 'b' is skipped", Assert.Single(result.Warnings));
    }

    [Fact]
    public void FactoryValidationErrors_HaveTheirFullPath()
    {
        Assert.Equal(
            ["$.devices[0].options.rate: expected at most 1000, got 5000", "$.devices[0].options.modes[0].width: expected a width above 0, got 0"],
            _fixture.Errors(Devices(Fake("dev0", """{ "rate": 5000, "modes": [ { "width": 0 } ] }"""))));
    }

    [Fact]
    public void ThrowingFactory_IsAPluginFailureNamingThePlugin()
    {
        _fixture.Catalog = new FakePluginCatalog().AddLoaded("fake", new FakeDeviceFactory { ThrowOnValidate = new InvalidOperationException("oops") });

        ConfigError error = Assert.Single(_fixture.Parse(Devices(Fake("dev0"))).Errors);

        Assert.Equal("$.devices[0].options: plugin 'fake' threw while checking the options: InvalidOperationException: oops", error.ToString());
        Assert.Equal(ConfigErrorKind.PluginFailed, error.Kind);
    }
}
