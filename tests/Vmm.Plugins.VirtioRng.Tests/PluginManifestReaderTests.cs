using Vmm.Core.Plugins;

namespace Vmm.Plugins.VirtioRng.Tests;

public sealed class PluginManifestReaderTests
{
    private const string Valid = """
        {
          "name": "virtio-rng",
          "version": "1.0.0",
          "contractVersion": "1.0",
          "assembly": "Vmm.Plugins.VirtioRng.dll",
          "entryPoint": "Vmm.Plugins.VirtioRng.VirtioRngPlugin",
          "deviceTypes": [ "virtio-rng" ],
          "description": "Entropy."
        }
        """;

    [Fact]
    public void Reads_every_field()
    {
        PluginManifest manifest = PluginManifestReader.Parse(Valid, "/p/vmm-plugin.json");

        Assert.Equal("virtio-rng", manifest.Name);
        Assert.Equal("1.0.0", manifest.Version);
        Assert.Equal(new Version(1, 0), manifest.ContractVersion);
        Assert.Equal("Vmm.Plugins.VirtioRng.dll", manifest.Assembly);
        Assert.Equal("Vmm.Plugins.VirtioRng.VirtioRngPlugin", manifest.EntryPoint);
        Assert.Equal(["virtio-rng"], manifest.DeviceTypes);
        Assert.Equal("Entropy.", manifest.Description);
    }

    [Fact]
    public void Reads_the_sample_plugins_manifest_from_disk()
        => Assert.Equal("virtio-rng", PluginManifestReader.Read(Path.Combine(TestPlugins.VirtioRng, "vmm-plugin.json")).Name);

    [Theory]
    [InlineData("\"name\": \"virtio-rng\",", "", "$.name", "is missing.")]
    [InlineData("\"1.0\"", "\"1\"", "$.contractVersion", "must be \"Major.Minor\"")]
    [InlineData("\"1.0\"", "1.0", "$.contractVersion", "must be a string, not a number.")]
    [InlineData("\"Vmm.Plugins.VirtioRng.dll\"", "\"../evil.dll\"", "$.assembly", "must be a file name ending in .dll")]
    [InlineData("[ \"virtio-rng\" ]", "[ \"virtio-rng\", 7 ]", "$.deviceTypes[1]", "must be a non-empty string.")]
    [InlineData("[ \"virtio-rng\" ]", "[ \"virtio-rng\", \"virtio-rng\" ]", "$.deviceTypes[1]", "'virtio-rng' is listed twice.")]
    [InlineData("[ \"virtio-rng\" ]", "\"virtio-rng\"", "$.deviceTypes", "must be an array of strings")]
    public void A_bad_field_is_named_with_its_json_path(string find, string replace, string jsonPath, string problem)
    {
        string json = Valid.Replace(find, replace, StringComparison.Ordinal);

        PluginManifestException e = Assert.Throws<PluginManifestException>(() => PluginManifestReader.Parse(json, "/p/vmm-plugin.json"));

        Assert.Equal(jsonPath, e.JsonPath);
        Assert.StartsWith($"/p/vmm-plugin.json: {jsonPath}: {problem}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_that_is_not_json_is_reported_with_the_file()
    {
        PluginManifestException e = Assert.Throws<PluginManifestException>(() => PluginManifestReader.Parse("{ \"name\": ", "/p/vmm-plugin.json"));

        Assert.StartsWith("/p/vmm-plugin.json: $", e.Message, StringComparison.Ordinal);
        Assert.Contains("is not valid JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_reported_with_its_path()
    {
        PluginManifestException e = Assert.Throws<PluginManifestException>(() => PluginManifestReader.Read("/no/such/vmm-plugin.json"));

        Assert.StartsWith("/no/such/vmm-plugin.json: $: cannot be read", e.Message, StringComparison.Ordinal);
    }
}
