using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>
/// A plugin whose manifest declares a device type it never registers fails to load, and every command that loads
/// plugins says so with the same message, naming the plugin and the type. The plugin is the built-in virtio-rng,
/// copied under another name with one more type in its manifest.
/// </summary>
public sealed class UnregisteredDeviceTypeTests : IDisposable
{
    private const string Expected =
        "Plugin 'declares-more' declares device type 'mistake-b' in its manifest but registers no factory for it (it registers: virtio-rng). "
            + "Register a factory for each declared type, or remove the type from \"deviceTypes\" in vmm-plugin.json.";

    private readonly string _work = Directory.CreateTempSubdirectory("vmm-declares-").FullName;
    private readonly string _plugins;

    public UnregisteredDeviceTypeTests()
    {
        _plugins = Directory.CreateDirectory(Path.Combine(_work, "plugins")).FullName;
        string copy = Directory.CreateDirectory(Path.Combine(_plugins, "declares-more")).FullName;
        foreach (string file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "plugins", "virtio-rng")))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        string manifest = Path.Combine(copy, "vmm-plugin.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest)
            .Replace("\"name\": \"virtio-rng\"", "\"name\": \"declares-more\"", StringComparison.Ordinal)
            .Replace("\"deviceTypes\": [ \"virtio-rng\" ]", "\"deviceTypes\": [ \"virtio-rng\", \"mistake-b\" ]", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(_work, "vm.json"), """
            {
              "plugins": { "paths": [ "plugins" ], "builtIn": false },
              "devices": [ { "id": "b", "plugin": "declares-more", "type": "mistake-b" } ]
            }
            """);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Plugins_list_shows_it_failed_exit_4()
    {
        (int exitCode, string output) = await RunAsync("plugins", "list", "--plugin-path", _plugins);

        Assert.Equal(4, exitCode);
        Assert.Contains("declares-more  1.0.0    2.2       failed  virtio-rng,mistake-b", output, StringComparison.Ordinal);
        Assert.Contains("declares-more: " + Expected, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_validate_and_run_say_it_failed_to_load_exit_4()
    {
        (int validateExit, string validate) = await RunAsync("config", "validate", Path.Combine(_work, "vm.json"));
        (int runExit, string run) = await RunAsync("run", "--config", Path.Combine(_work, "vm.json"));

        string line = "$.devices[0].plugin: plugin 'declares-more' failed to load: " + Expected;
        Assert.Equal((4, 4), (validateExit, runExit));
        Assert.Contains(line, validate, StringComparison.Ordinal);
        Assert.Contains(line, run, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_vhost_user_says_it_failed_to_load_exit_4()
    {
        (int exitCode, string output) = await RunAsync("serve-vhost-user", "--socket", Path.Combine(_work, "b.sock"), "--device", "mistake-b", "--plugin-path", _plugins);

        Assert.Equal(4, exitCode);
        Assert.Equal("vmm: plugin 'declares-more', which provides device type 'mistake-b', failed to load: " + Expected, output.Trim());
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        using StringWriter output = new();
        using StringWriter error = new();
        int exitCode = await Program.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return (exitCode, output.ToString() + error);
    }
}
