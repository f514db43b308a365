using System.Text.Json;
using Xunit;

namespace Vmm.Cli.Tests;

public sealed class PluginsListCommandTests : IDisposable
{
    private readonly CliFixture _fixture = new();
    private readonly CliRunner _cli = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task Table_ShowsNameVersionContractStatusAndTypes()
    {
        CliResult result = await _cli.RunAsync("plugins", "list", "--plugin-path", _fixture.Directory);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            [
                "NAME  VERSION  CONTRACT  STATUS  DEVICE TYPES",
                "fake  1.2.3    1.0       loaded  fake-dev",
            ],
            result.OutLines);
        Assert.Equal([_fixture.Directory], Assert.Single(_cli.PluginLoads));
    }

    [Fact]
    public async Task FailedPlugin_IsListedWithItsError_Exit4()
    {
        _cli.Catalog = FakeCatalog.WithFakeDevice().AddFailed("broken", "Plugin 'broken' targets contract 9.0.");

        CliResult result = await _cli.RunAsync("plugins", "list", "--plugin-path", _fixture.Directory);

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("broken  0.1.0    9.0       failed  broken-dev", result.OutLines);
        Assert.Contains("broken: Plugin 'broken' targets contract 9.0.", result.OutLines);
    }

    [Fact]
    public async Task Json_HasEveryField()
    {
        _cli.Catalog = FakeCatalog.WithFakeDevice().AddFailed("broken", "bad");

        CliResult result = await _cli.RunAsync("plugins", "list", "--plugin-path", _fixture.Directory, "--json");

        JsonElement[] plugins = JsonDocument.Parse(result.Out).RootElement.EnumerateArray().ToArray();
        Assert.Equal(2, plugins.Length);
        Assert.Equal(
            """{"name":"fake","version":"1.2.3","contractVersion":"1.0","deviceTypes":["fake-dev"],"directory":"/plugins/fake","status":"loaded","error":null}""",
            JsonSerializer.Serialize(plugins[0]));
        Assert.Equal(("failed", "bad"), (plugins[1].GetProperty("status").GetString(), plugins[1].GetProperty("error").GetString()));
        Assert.Equal(4, result.ExitCode);
    }

    [Fact]
    public async Task SeveralPluginPaths_AreAllSearched()
    {
        string other = Directory.CreateDirectory(Path.Combine(_fixture.Directory, "other")).FullName;

        await _cli.RunAsync("plugins", "list", "--plugin-path", _fixture.Directory, "--plugin-path", other);

        Assert.Equal([_fixture.Directory, other], Assert.Single(_cli.PluginLoads));
    }

    [Fact]
    public async Task MissingFolder_IsAUsageError()
    {
        CliResult result = await _cli.RunAsync("plugins", "list", "--plugin-path", "/no/such/folder");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("vmm: plugin folder '/no/such/folder' does not exist", result.Error.Trim());
    }

    [Fact]
    public async Task NoPlugins_SaysSo()
    {
        _cli.Catalog = new FakeCatalog();

        CliResult result = await _cli.RunAsync("plugins", "list", "--plugin-path", _fixture.Directory);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"vmm: no plugins found in '{_fixture.Directory}'", result.Error.Trim());
    }
}
