using Vmm.Contracts.Devices;
using Vmm.Core.Plugins;

namespace Vmm.Plugins.VirtioRng.Tests;

public sealed class VirtioRngOptionsTests : IDisposable
{
    private readonly PluginHost _host = TestPlugins.CreateHost(TestPlugins.VirtioRng);
    private readonly IDeviceFactory _factory;

    public VirtioRngOptionsTests() => _factory = TestPlugins.LoadRngFactory(_host);

    public void Dispose() => _host.Dispose();

    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.Empty(TestPlugins.Validate(_factory, "{}"));
        Assert.Empty(TestPlugins.Validate(_factory, """{ "source": "os", "maxBytesPerPeriod": 1024, "periodMs": 1000 }"""));
    }

    [Fact]
    public void A_file_source_with_an_existing_path_is_valid()
    {
        string file = Path.GetTempFileName();
        try
        {
            Assert.Empty(TestPlugins.Validate(_factory, $$"""{ "source": "file", "path": "{{Path.GetFileName(file)}}" }""", Path.GetDirectoryName(file)!));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("""{ "source": "hwrng" }""", "$.devices[0].options.source", "must be \"os\" or \"file\", not \"hwrng\".")]
    [InlineData("""{ "source": "file" }""", "$.devices[0].options.path", "is required when source is \"file\"")]
    [InlineData("""{ "source": "file", "path": "/no/such/entropy" }""", "$.devices[0].options.path", "'/no/such/entropy' does not exist.")]
    [InlineData("""{ "path": "/dev/urandom" }""", "$.devices[0].options.path", "is only used when source is \"file\".")]
    [InlineData("""{ "maxBytesPerPeriod": -1 }""", "$.devices[0].options.maxBytesPerPeriod", "must be 0 (unlimited) or more, not -1.")]
    [InlineData("""{ "periodMs": 0 }""", "$.devices[0].options.periodMs", "must be at least 1, not 0.")]
    public void A_bad_option_is_reported_with_its_member(string json, string path, string message)
    {
        (string Path, string Message) error = Assert.Single(TestPlugins.Validate(_factory, json));

        Assert.Equal(path, error.Path);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_option_is_reported()
    {
        IReadOnlyList<(string Path, string Message)> errors = TestPlugins.Validate(_factory, """{ "source": "x", "maxBytesPerPeriod": -5, "periodMs": -1 }""");

        Assert.Equal(
            ["$.devices[0].options.source", "$.devices[0].options.maxBytesPerPeriod", "$.devices[0].options.periodMs"],
            errors.Select(e => e.Path));
    }
}
