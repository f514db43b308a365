using System.CommandLine;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;

namespace Vmm.Cli.Commands;

/// <summary><c>vmm run --config FILE</c>: validates the config, loads the plugins, picks the platform and runs the VM.</summary>
internal static class RunCommand
{
    public static Command Create(CliContext context)
    {
        Option<string> config = new("--config", "-c") { Description = "The VM config file.", HelpName = "FILE", Required = true };
        Command run = new("run", "Runs a VM from a config file until it stops (Ctrl-C stops it).") { config };
        run.SetAction(async (parseResult, cancellationToken) =>
        {
            string path = parseResult.GetValue(config)!;
            using CommandSession session = CommandSession.Start(context, parseResult);
            VmConfigResult result = session.LoadConfig(path);
            if (result.Spec is not VmSpec spec)
            {
                foreach (ConfigError error in result.Errors)
                {
                    context.Error.WriteLine($"vmm: {path}: {error}");
                }

                return CommandSession.ExitCodeFor(result);
            }

            PlatformSelection selection = VmPlatformSelector.Select(spec.Platform, context.Platforms());
            if (!selection.IsAvailable)
            {
                context.Error.WriteLine($"vmm: {selection.UnavailableReason}");
                return ExitCodes.PlatformUnavailable;
            }

            try
            {
                VmRunContext runContext = new(session.LoggerFactory, result.Plugins!, new ControlCommandRegistry()) { Routers = session.Routers };
                VmRunResult outcome = await VmRunner.RunAsync(spec, selection.Platform!, runContext, cancellationToken).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested)
                {
                    // The platform stopped the VM cleanly on Ctrl-C; still an interruption for the shell.
                    context.Error.WriteLine("vmm: interrupted");
                    return ExitCodes.Interrupted;
                }

                if (outcome.Outcome == VmRunOutcome.Stopped)
                {
                    return ExitCodes.Ok;
                }

                context.Error.WriteLine($"vmm: the VM failed: {outcome.Message ?? outcome.Outcome.ToString()}");
                return ExitCodes.VmFailed;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                context.Error.WriteLine("vmm: interrupted");
                return ExitCodes.Interrupted;
            }
        });

        return run;
    }
}
