using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>Runs the vmm command in-process with captured stdout and stderr.</summary>
internal sealed class CliRunner
{
    public IPluginCatalog Catalog { get; set; } = FakeCatalog.WithFakeDevice();

    public List<IVmPlatform> Platforms { get; } = [new UnavailablePlatform("kvm", Core.Config.PlatformKind.Kvm), new UnavailablePlatform("qemu", Core.Config.PlatformKind.Qemu)];

    /// <summary>The folders of each plugin load: those searched first, then the built-in ones.</summary>
    public List<IReadOnlyList<string>> PluginLoads { get; } = [];

    /// <summary>Whether each plugin load asked for collectible (reloadable) load contexts.</summary>
    public List<bool> PluginLoadsReloadable { get; } = [];

    public string DefaultPluginDirectory { get; set; } = "/nonexistent/plugins";

    public List<Microsoft.Extensions.Logging.LogLevel> LogLevels { get; } = [];

    public async Task<CliResult> RunAsync(params string[] args) => await RunUntilCancelledAsync(args, TestContext.Current.CancellationToken);

    public async Task<CliResult> RunUntilCancelledAsync(string[] args, CancellationToken cancellationToken)
    {
        using StringWriter output = new();
        using StringWriter error = new();
        CliContext context = new()
        {
            Out = output,
            Error = error,
            LoadPlugins = (folders, builtInFolders, _, reloadable, _, _) =>
            {
                PluginLoads.Add([.. folders, .. builtInFolders]);
                PluginLoadsReloadable.Add(reloadable);
                return Catalog;
            },
            Platforms = () => Platforms,
            CreateLoggerFactory = level =>
            {
                LogLevels.Add(level);
                return NullLoggerFactory.Instance;
            },
            DefaultPluginDirectory = DefaultPluginDirectory,
        };
        int exitCode = await VmmCommand.RunAsync(args, context, cancellationToken);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }
}

internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Error}";
}
