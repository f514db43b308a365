using Xunit;

namespace Vmm.Cli.Tests;

public sealed class ConfigValidateCommandTests : IDisposable
{
    private readonly CliFixture _fixture = new();
    private readonly CliRunner _cli = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task ValidConfig_PrintsValid_Exit0()
    {
        string file = _fixture.Write("vm.json", """{ "devices": [ { "id": "d", "plugin": "fake", "type": "fake-dev" } ] }""");

        CliResult result = await _cli.RunAsync("config", "validate", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"{file}: valid", Assert.Single(result.OutLines));
    }

    [Fact]
    public async Task InvalidConfig_PrintsEveryErrorLine_Exit3()
    {
        string file = _fixture.Write("vm.json", """{ "machine": { "memory": "513M", "vcpus": 0 } }""");

        CliResult result = await _cli.RunAsync("config", "validate", file);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal(
            [
                "$.machine.memory: expected a size that is a multiple of 2 MiB such as \"512M\", got \"513M\"",
                "$.machine.vcpus: expected an integer from 1 to 255, got number 0",
            ],
            result.OutLines);
        Assert.Equal($"vmm: {file}: 2 errors", result.Error.Trim());
    }

    [Fact]
    public async Task PluginThatFailedToLoad_Exit4()
    {
        _cli.Catalog = FakeCatalog.WithFakeDevice().AddFailed("broken", "Plugin 'broken' is broken.");
        string file = _fixture.Write("vm.json", """{ "devices": [ { "id": "b", "plugin": "broken", "type": "broken-dev" } ] }""");

        CliResult result = await _cli.RunAsync("config", "validate", file);

        Assert.Equal(4, result.ExitCode);
        Assert.Equal("$.devices[0].plugin: plugin 'broken' failed to load: Plugin 'broken' is broken.", Assert.Single(result.OutLines));
    }

    [Fact]
    public async Task MissingFile_Exit3()
    {
        CliResult result = await _cli.RunAsync("config", "validate", Path.Combine(_fixture.Directory, "none.json"));

        Assert.Equal(3, result.ExitCode);
        Assert.StartsWith("$: expected a readable config file", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OptionalPluginWarnings_GoToStderr()
    {
        string file = _fixture.Write("vm.json", """{ "plugins": { "optional": ["gone"] }, "devices": [ { "id": "g", "plugin": "gone", "type": "x" } ] }""");

        CliResult result = await _cli.RunAsync("config", "validate", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("vmm: warning: $.devices[0].plugin: optional plugin 'gone' was not found; device 'g' is skipped", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PluginFolders_FromTheConfig_AddToTheBuiltInOne_UnlessItOptsOut()
    {
        Directory.CreateDirectory(Path.Combine(_fixture.Directory, "mine"));
        await _cli.RunAsync("config", "validate", _fixture.Write("a.json", """{ "plugins": { "paths": ["mine"] } }"""));
        await _cli.RunAsync("config", "validate", _fixture.Write("b.json", "{}"));
        await _cli.RunAsync("config", "validate", _fixture.Write("c.json", """{ "plugins": { "paths": ["mine"], "builtIn": false } }"""));

        Assert.Equal([Path.Combine(_fixture.Directory, "mine"), "/nonexistent/plugins"], _cli.PluginLoads[0]);
        Assert.Equal(["/nonexistent/plugins"], _cli.PluginLoads[1]);
        Assert.Equal([Path.Combine(_fixture.Directory, "mine")], _cli.PluginLoads[2]);
    }

    [Fact]
    public async Task Plugins_LoadReloadable_OnlyWhenTheConfigHasAControlSocket()
    {
        await _cli.RunAsync("config", "validate", _fixture.Write("a.json", "{}"));
        await _cli.RunAsync("config", "validate", _fixture.Write("b.json", """{ "control": { "socket": "/tmp/vmm-reload-test.sock" } }"""));

        // Without a control socket nothing can ask for a reload, so plugins load for good (and run their ReadyToRun code).
        Assert.Equal([false, true], _cli.PluginLoadsReloadable);
    }

    [Fact]
    public async Task PluginPathOption_ReplacesTheBuiltInFolder()
    {
        string other = Directory.CreateDirectory(Path.Combine(_fixture.Directory, "other")).FullName;
        Directory.CreateDirectory(Path.Combine(_fixture.Directory, "mine"));

        CliResult result = await _cli.RunAsync("config", "validate", _fixture.Write("a.json", """{ "plugins": { "paths": ["mine"] } }"""), "--plugin-path", other);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([Path.Combine(_fixture.Directory, "mine"), other], Assert.Single(_cli.PluginLoads));
    }

    [Fact]
    public async Task PluginPathOption_ThatDoesNotExist_IsAUsageError()
    {
        CliResult result = await _cli.RunAsync("config", "validate", _fixture.Write("a.json", "{}"), "--plugin-path", "/no/such/folder");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("vmm: plugin folder '/no/such/folder' does not exist", result.Error.Trim());
        Assert.Empty(_cli.PluginLoads);
    }
}
