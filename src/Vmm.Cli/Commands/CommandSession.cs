using System.CommandLine;
using Microsoft.Extensions.Logging;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;

namespace Vmm.Cli.Commands;

/// <summary>What one command invocation holds: its logger factory and the plugin catalogs it loaded (disposed at the end).</summary>
internal sealed class CommandSession : IDisposable
{
    private readonly CliContext _context;
    private readonly List<IDisposable> _owned = [];

    private CommandSession(CliContext context, ILoggerFactory loggerFactory)
    {
        _context = context;
        LoggerFactory = loggerFactory;
        _owned.Add(loggerFactory);
        Routers = new VmRouters(loggerFactory);
        _owned.Add(Routers);
    }

    /// <summary>The input and display routers every plugin this session loads shares (a VM's host services).</summary>
    public VmRouters Routers { get; }

    /// <summary>The logger factory, at the level <c>--verbose</c> chose.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Starts a session for a parsed command line.</summary>
    public static CommandSession Start(CliContext context, ParseResult parseResult)
    {
        bool verbose = parseResult.GetValue<bool>(VmmCommand.VerboseOptionName);
        return new CommandSession(context, context.CreateLoggerFactory(verbose ? LogLevel.Debug : LogLevel.Warning));
    }

    /// <summary>The exit code for an invalid config: plugin failures win over config mistakes.</summary>
    public static int ExitCodeFor(VmConfigResult result) =>
        result.HasPluginFailures ? ExitCodes.PluginFailed : ExitCodes.ConfigInvalid;

    /// <summary>Loads plugins from <paramref name="folders"/>; the catalog lives as long as the session.</summary>
    public IPluginCatalog LoadPlugins(IReadOnlyList<string> folders)
    {
        IPluginCatalog catalog = _context.LoadPlugins(folders, LoggerFactory, Routers.SharedServices);
        if (catalog is IDisposable disposable)
        {
            _owned.Add(disposable);
        }

        return catalog;
    }

    /// <summary>Loads and validates a config file, loading the plugins it names; warnings go to stderr.</summary>
    public VmConfigResult LoadConfig(string path)
    {
        VmConfigResult result = VmConfig.Load(path, settings => LoadPlugins(settings.Paths), _context.DefaultPluginDirectory);
        foreach (string warning in result.Warnings)
        {
            _context.Error.WriteLine($"vmm: warning: {warning}");
        }

        return result;
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
    }
}
