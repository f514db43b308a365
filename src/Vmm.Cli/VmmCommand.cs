using System.CommandLine;
using Vmm.Cli.Commands;
using Vmm.Contracts;
using Vmm.Core.Diagnostics;

namespace Vmm.Cli;

/// <summary>Builds the <c>vmm</c> command tree and runs it with the CLI's exit-code conventions.</summary>
internal static class VmmCommand
{
    /// <summary>The name of the global <c>--verbose</c> option.</summary>
    public const string VerboseOptionName = "--verbose";

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code. Cancelling <paramref name="cancellationToken"/> is Ctrl-C.</summary>
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            if (PlainRunArguments.TryParse(args, out string config, out bool verbose))
            {
                StartupTrace.Mark("command line parsed");
                return await RunCommand.RunAsync(context, config, verbose, [], tty: false, interactive: false, cancellationToken).ConfigureAwait(false);
            }

            return await ParseAndInvokeAsync(args, context, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Interrupted;
        }
        catch (VmmException ex)
        {
            // Failures the framework reports on purpose (a control socket in use, a platform call) are one line, not a stack trace.
            context.Error.WriteLine($"vmm: {ex.Message}");
            return ExitCodes.VmFailed;
        }
    }

    // Everything but a plain `vmm run --config FILE`: System.CommandLine parses, reports usage errors and runs the action.
    private static async Task<int> ParseAndInvokeAsync(string[] args, CliContext context, CancellationToken cancellationToken)
    {
        RootCommand root = Create(context, args);
        ParseResult parseResult = root.Parse(args);
        StartupTrace.Mark("command line parsed");
        if (parseResult.Errors.Count > 0)
        {
            // At the top, System.CommandLine says both "Required command was not provided." and "Unrecognized command
            // or argument 'x'." for a mistyped command: one line that names it and the commands there are.
            if (parseResult.CommandResult.Command == root && parseResult.UnmatchedTokens.Count > 0)
            {
                string commands = string.Join(", ", root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
                context.Error.WriteLine($"vmm: unknown command or option '{parseResult.UnmatchedTokens[0]}' (commands: {commands})");
            }
            else
            {
                foreach (System.CommandLine.Parsing.ParseError error in parseResult.Errors)
                {
                    context.Error.WriteLine($"vmm: {error.Message}");
                }
            }

            context.Error.WriteLine("Run 'vmm --help' for usage.");
            return ExitCodes.Usage;
        }

        InvocationConfiguration invocation = new()
        {
            Output = context.Out,
            Error = context.Error,
            EnableDefaultExceptionHandler = false,

            // Ctrl-C and SIGTERM arrive as cancellationToken (TerminationSignals, registered before parsing); QEMU
            // then gets QMP quit and up to 5 s to exit before it is killed.
            ProcessTerminationTimeout = null,
        };
        return await parseResult.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The command tree for <paramref name="args"/>. A command line whose first word names a command gets only that
    /// command: building every command's options is start-up time a <c>vmm run</c> does not need. Anything else
    /// (help, a typo, no command) gets them all, so help and suggestions list every command.
    /// </summary>
    private static RootCommand Create(CliContext context, string[] args)
    {
        Option<bool> verbose = new(VerboseOptionName, "-v") { Description = "Log more (debug level) to stderr.", Recursive = true };
        RootCommand root = new("vmm: runs microVMs from a JSON config, lists plugins, and controls running VMs.\n\n" + ExitCodes.HelpText)
        {
            verbose,
        };
        string? first = args.FirstOrDefault(a => !a.StartsWith('-'));
        (string Name, Func<CliContext, Command> Create)[] commands =
        [
            ("run", RunCommand.Create),
            ("config", ConfigValidateCommand.Create),
            ("plugins", PluginsListCommand.Create),
            ("ctl", CtlCommand.Create),
            ("exec", ExecCommand.Create),
            ("serve-vhost-user", ServeVhostUserCommand.Create),
        ];
        bool named = commands.Any(c => c.Name == first);
        foreach ((string name, Func<CliContext, Command> create) in commands)
        {
            if (!named || name == first)
            {
                root.Subcommands.Add(create(context));
            }
        }

        return root;
    }
}
