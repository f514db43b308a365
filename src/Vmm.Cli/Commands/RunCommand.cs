using System.CommandLine;
using System.Net.Sockets;
using System.Text.Json;
using Vmm.Cli.Exec;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Diagnostics;
using Vmm.Core.Hosting;

namespace Vmm.Cli.Commands;

/// <summary>
/// <c>vmm run --config FILE [-- CMD ARGS...]</c>: validates the config, loads the plugins, picks the platform and runs
/// the VM. With a command, it runs CMD in the guest through virtio-vsock and vmm-exec-agent, passes its output and
/// exit code through and stops the VM; or, as muvm does, runs it in the VM already running on the config's control
/// socket.
/// </summary>
internal static class RunCommand
{
    /// <summary>How long a VM started for a command may take until its agent answers.</summary>
    private static readonly TimeSpan s_agentWait = TimeSpan.FromSeconds(120);

    public static Command Create(CliContext context)
    {
        Option<string> config = new("--config", "-c") { Description = "The VM config file.", HelpName = "FILE", Required = true };
        Option<bool> tty = new("--tty", "-t") { Description = "With a command: run it on a pseudo-terminal (this terminal goes raw)." };
        Option<bool> interactive = new("--interactive", "-i") { Description = "With a command: forward stdin to it." };
        Argument<string[]> command = new("COMMAND") { Description = "A command to run in the guest (after --); the VM stops when it ends.", Arity = ArgumentArity.ZeroOrMore };
        Command run = new("run", "Runs a VM from a config file until it stops (Ctrl-C stops it); with -- CMD ARGS, runs CMD in it and exits with its code.") { config, tty, interactive, command };
        run.SetAction((parseResult, cancellationToken) => RunAsync(
            context,
            parseResult.GetValue(config)!,
            parseResult.GetValue<bool>(VmmCommand.VerboseOptionName),
            parseResult.GetValue(command) ?? [],
            parseResult.GetValue(tty),
            parseResult.GetValue(interactive),
            cancellationToken));

        return run;
    }

    /// <summary>
    /// Runs the VM <paramref name="path"/> describes (or, with <paramref name="guestCommand"/>, that command in it):
    /// what <c>vmm run</c> does once its command line is parsed, by System.CommandLine or by <see cref="PlainRunArguments"/>.
    /// </summary>
    public static async Task<int> RunAsync(CliContext context, string path, bool verbose, string[] guestCommand, bool tty, bool interactive, CancellationToken cancellationToken)
    {
        using CommandSession session = CommandSession.Start(context, verbose);
        StartupTrace.Mark("logging set up");
        VmConfigResult result = session.LoadConfig(path);
        StartupTrace.Mark("config validated");
        if (result.Spec is not VmSpec spec)
        {
            foreach (ConfigError error in result.Errors)
            {
                context.Error.WriteLine($"vmm: {path}: {error}");
            }

            return CommandSession.ExitCodeFor(result);
        }

        if (guestCommand.Length > 0)
        {
            var request = new ExecRequest(guestCommand);
            return await RunCommandAsync(context, session, result, spec, path, request, tty, interactive, cancellationToken).ConfigureAwait(false);
        }

        PlatformSelection selection = VmPlatformSelector.Select(spec.Platform, context.Platforms());
        if (!selection.IsAvailable)
        {
            context.Error.WriteLine($"vmm: {selection.UnavailableReason}");
            return ExitCodes.PlatformUnavailable;
        }

        StartupTrace.Mark("platform selected");
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
    }

    /// <summary>
    /// <c>run -- CMD</c>: in the VM already running on the config's control socket, else in a VM started for it
    /// (its console kept off stdout, <c>vmm.wait=1</c> so the guest stays up) and stopped afterwards.
    /// </summary>
    private static async Task<int> RunCommandAsync(CliContext context, CommandSession session, VmConfigResult result, VmSpec spec, string configPath, ExecRequest request, bool tty, bool interactive, CancellationToken cancellationToken)
    {
        try
        {
            if (spec.Control is { } control && await AnswersAsync(control.SocketPath, cancellationToken).ConfigureAwait(false))
            {
                // Say where the command went: a VM another config (or person) started on the same socket path looks
                // like this config's VM failing.
                try
                {
                    string running = await ExecEndpoint.FindUdsAsync(control.SocketPath, null, cancellationToken).ConfigureAwait(false);
                    return await ExecCommand.RunAsync(context, running, ExecCommand.DefaultAgentPort, request, tty, interactive, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                }
                catch (ExecException ex)
                {
                    throw new ExecException($"in the VM already running on '{control.SocketPath}' (the config's control.socket): {ex.Message}", ex);
                }
            }

            if (VsockUds(spec, configPath) is not { } uds)
            {
                context.Error.WriteLine($"vmm: {configPath}: running a command needs a {ExecEndpoint.VsockDeviceType} device with a \"uds\" option in the config");
                return ExitCodes.ConfigInvalid;
            }

            IReadOnlyList<IVmPlatform> platforms = context.PlatformsWithConsole?.Invoke(TextWriter.Null) ?? context.Platforms();
            PlatformSelection selection = VmPlatformSelector.Select(spec.Platform, platforms);
            if (!selection.IsAvailable)
            {
                context.Error.WriteLine($"vmm: {selection.UnavailableReason}");
                return ExitCodes.PlatformUnavailable;
            }

            VmSpec waiting = spec with { Machine = spec.Machine with { CommandLine = spec.Machine.CommandLine + " vmm.wait=1" } };
            VmRunContext runContext = new(session.LoggerFactory, result.Plugins!, new ControlCommandRegistry()) { Routers = session.Routers };
            using var stopVm = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task<VmRunResult> vm = VmRunner.RunAsync(waiting, selection.Platform!, runContext, stopVm.Token);
            try
            {
                Task<int> exec = ExecCommand.RunAsync(context, uds, ExecCommand.DefaultAgentPort, request, tty, interactive, s_agentWait);
                if (await Task.WhenAny(exec, vm).ConfigureAwait(false) == vm)
                {
                    VmRunResult early = await vm.ConfigureAwait(false);
                    context.Error.WriteLine($"vmm: the VM ended before the command ran: {early.Message ?? early.Outcome.ToString()}");
                    return ExitCodes.VmFailed;
                }

                return await exec.ConfigureAwait(false);
            }
            finally
            {
                await stopVm.CancelAsync().ConfigureAwait(false);
                try
                {
                    await vm.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        catch (ExecException ex)
        {
            context.Error.WriteLine($"vmm: exec: {ex.Message}");
            return ExitCodes.ExecFailed;
        }
    }

    /// <summary>Whether a VM answers on <paramref name="socketPath"/>.</summary>
    private static async Task<bool> AnswersAsync(string socketPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(socketPath))
        {
            return false;
        }

        try
        {
            await using ControlClient client = await ControlClient.ConnectAsync(socketPath, cancellationToken).ConfigureAwait(false);
            return (await client.SendAsync("status", null, cancellationToken).ConfigureAwait(false)).Ok;
        }
        catch (Exception ex) when (ex is SocketException or IOException or JsonException)
        {
            return false;
        }
    }

    /// <summary>The absolute <c>uds</c> of the config's first virtio-vsock device (relative paths are against the config's folder).</summary>
    private static string? VsockUds(VmSpec spec, string configPath)
    {
        DeviceSpec? device = spec.Devices.FirstOrDefault(d => d.Type == ExecEndpoint.VsockDeviceType);
        if (device is null)
        {
            return null;
        }

        JsonElement options = JsonSerializer.SerializeToElement(device.Options, device.Options.GetType(), DeviceOptionsSerializer.Options);
        return options.TryGetProperty("uds", out JsonElement uds) && uds.GetString() is { Length: > 0 } path
            ? Path.GetFullPath(path, Path.GetDirectoryName(Path.GetFullPath(configPath))!)
            : null;
    }
}
