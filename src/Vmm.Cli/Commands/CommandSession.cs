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
    public static CommandSession Start(CliContext context, ParseResult parseResult) =>
        Start(context, parseResult.GetValue<bool>(VmmCommand.VerboseOptionName));

    /// <summary>Starts a session logging at debug level with <paramref name="verbose"/>, else at warning level.</summary>
    public static CommandSession Start(CliContext context, bool verbose) =>
        new(context, context.CreateLoggerFactory(verbose ? LogLevel.Debug : LogLevel.Warning));

    /// <summary>
    /// The folders a <c>--plugin-path</c> option names, made absolute; the built-in folder when it names none. Prints
    /// an error and returns null when a named one does not exist.
    /// </summary>
    public static IReadOnlyList<string>? PluginFolders(CliContext context, ParseResult parseResult, Option<string[]> option)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(parseResult);
        if (parseResult.GetValue(option) is not { Length: > 0 } given)
        {
            return [context.DefaultPluginDirectory];
        }

        string[] folders = [.. given.Select(p => Path.GetFullPath(p))];
        foreach (string folder in folders.Where(f => !Directory.Exists(f)))
        {
            context.Error.WriteLine($"vmm: plugin folder '{folder}' does not exist");
            return null;
        }

        return folders;
    }

    /// <summary>The <c>--plugin-path</c> option: folders searched instead of the built-in plugins folder.</summary>
    public static Option<string[]> PluginPathOption(string description) => new("--plugin-path")
    {
        Description = description,
        HelpName = "DIR",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The exit code for an invalid config: plugin failures win over config mistakes.</summary>
    public static int ExitCodeFor(VmConfigResult result) =>
        result.HasPluginFailures ? ExitCodes.PluginFailed : ExitCodes.ConfigInvalid;

    /// <summary>
    /// Loads plugins from <paramref name="folders"/>, then from <paramref name="builtInFolders"/> those not found
    /// yet (only those named in <paramref name="only"/> when it is not null); the catalog lives as long as the session.
    /// Plugins load into collectible contexts only when <paramref name="reloadable"/> (see <see cref="PluginSettings.Reloadable"/>).
    /// </summary>
    public IPluginCatalog LoadPlugins(IReadOnlyList<string> folders, IReadOnlyList<string> builtInFolders, IReadOnlyCollection<string>? only = null, bool reloadable = false)
    {
        IPluginCatalog catalog = _context.LoadPlugins(folders, builtInFolders, only, reloadable, LoggerFactory, Routers.SharedServices);
        if (catalog is IDisposable disposable)
        {
            _owned.Add(disposable);
        }

        return catalog;
    }

    /// <summary>
    /// Loads and validates a config file: finds the plugins in the folders its <c>plugins.paths</c> name and the
    /// built-in ones (<paramref name="builtInFolders"/>, default: the folder next to vmm) and loads those its devices
    /// name; warnings go to stderr.
    /// </summary>
    public VmConfigResult LoadConfig(string path, IReadOnlyList<string>? builtInFolders = null)
    {
        VmConfigResult result = VmConfig.Load(
            path,
            settings => LoadPlugins(settings.Paths, settings.BuiltInPaths, settings.Named, settings.Reloadable),
            builtInFolders ?? [_context.DefaultPluginDirectory]);
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
