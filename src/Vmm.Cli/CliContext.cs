using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;

namespace Vmm.Cli;

/// <summary>
/// What the vmm command runs against: its output streams, how plugins are loaded, which platforms exist and how
/// logging is set up. <see cref="CreateDefault"/> is the real world; tests replace any of it.
/// </summary>
internal sealed class CliContext
{
    /// <summary>Standard output: reports, JSON, replies.</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Standard error: errors, warnings and logs.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>
    /// Loads the plugins found in the given folders and then in the built-in ones (whose plugins give way to one of
    /// the same name found first), seeding each plugin's container with the shared services; with a list of names,
    /// only those load (the rest are discovered). A returned catalog that is <see cref="IDisposable"/> is disposed
    /// after the command.
    /// </summary>
    public required Func<IReadOnlyList<string>, IReadOnlyList<string>, IReadOnlyCollection<string>?, bool, ILoggerFactory, IEnumerable<ServiceDescriptor>, IPluginCatalog> LoadPlugins { get; init; }

    /// <summary>The platforms of this build, in the order <c>auto</c> prefers them.</summary>
    public required Func<IReadOnlyList<IVmPlatform>> Platforms { get; init; }

    /// <summary>The platforms with the guest's serial console going to the given writer (<c>vmm run -- CMD</c> keeps it off stdout); null: <see cref="Platforms"/>.</summary>
    public Func<TextWriter, IReadOnlyList<IVmPlatform>>? PlatformsWithConsole { get; init; }

    /// <summary>Creates the logger factory for a minimum level.</summary>
    public required Func<LogLevel, ILoggerFactory> CreateLoggerFactory { get; init; }

    /// <summary>Opens the stream <c>vmm exec</c> forwards to the guest command's stdin.</summary>
    public Func<Stream> OpenStandardInput { get; init; } = () => Stream.Null;

    /// <summary>Opens the stream a guest command's stdout goes to (bytes as they are).</summary>
    public Func<Stream>? OpenStandardOutput { get; init; }

    /// <summary>Opens the stream a guest command's stderr goes to.</summary>
    public Func<Stream>? OpenStandardError { get; init; }

    /// <summary>Whether vmm runs on a terminal (stdin and stdout): <c>vmm exec -t</c> then puts it in raw mode.</summary>
    public bool IsTerminal { get; init; }

    /// <summary>The built-in plugin folder, searched unless the command line names others (or a config opts out).</summary>
    public string DefaultPluginDirectory { get; init; } = VmConfig.DefaultPluginDirectory;

    /// <summary>
    /// The real world: console streams, the plugin host, the platforms of this build, console logging to stderr.
    /// With <paramref name="inheritConsole"/> a guest's serial console is this process's terminal (stdin included);
    /// otherwise it goes to <paramref name="output"/>.
    /// </summary>
    public static CliContext CreateDefault(TextWriter output, TextWriter error, bool inheritConsole = false) => new()
    {
        Out = output,
        Error = error,
        LoadPlugins = PluginLoading.Load,
        Platforms = () => DefaultPlatforms.Create(output, error, inheritConsole),
        PlatformsWithConsole = console => DefaultPlatforms.Create(console, error, inheritConsole: false),
        CreateLoggerFactory = ConsoleLogging.Create,
        OpenStandardInput = inheritConsole ? Console.OpenStandardInput : () => Stream.Null,
        OpenStandardOutput = inheritConsole ? Console.OpenStandardOutput : () => new TextWriterStream(output),
        OpenStandardError = inheritConsole ? Console.OpenStandardError : () => new TextWriterStream(error),
        IsTerminal = inheritConsole && !Console.IsInputRedirected && !Console.IsOutputRedirected,
    };
}
