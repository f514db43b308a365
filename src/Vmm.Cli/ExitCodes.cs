namespace Vmm.Cli;

/// <summary>The exit codes of the vmm command; documented in <c>vmm --help</c> and docs/cli.md.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The VM or the guest failed.</summary>
    public const int VmFailed = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>The VM config is invalid.</summary>
    public const int ConfigInvalid = 3;

    /// <summary>A plugin failed to load.</summary>
    public const int PluginFailed = 4;

    /// <summary>The platform the config asks for is not available.</summary>
    public const int PlatformUnavailable = 5;

    /// <summary>A control request failed (no connection, or the reply is not ok).</summary>
    public const int ControlFailed = 6;

    /// <summary>
    /// <c>vmm exec</c> / <c>vmm run -- CMD</c> lost or could not start the guest command (no agent, a broken
    /// connection), as ssh reports its own failures; otherwise those commands exit with the guest command's code.
    /// </summary>
    public const int ExecFailed = 255;

    /// <summary>Interrupted (Ctrl-C), as shells report SIGINT.</summary>
    public const int Interrupted = 130;

    /// <summary>The table shown by <c>vmm --help</c>.</summary>
    public const string HelpText = """
        Exit codes:
          0    ok
          1    the VM or the guest failed
          2    usage error
          3    config invalid
          4    plugin failed to load
          5    platform not available
          6    control request failed
          130  interrupted (Ctrl-C)
          255  vmm exec: the guest command could not run or was lost (else: its own exit code)
        """;
}
