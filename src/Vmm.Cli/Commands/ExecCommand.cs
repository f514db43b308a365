using System.CommandLine;
using System.Runtime.InteropServices;
using Vmm.Cli.Exec;

namespace Vmm.Cli.Commands;

/// <summary>
/// <c>vmm exec --socket CONTROL [-t] [-i] [--env K=V]... [--cwd DIR] [--user UID] -- CMD ARGS...</c>: runs a command in a
/// running VM through its virtio-vsock device and the guest's vmm-exec-agent; vmm exits with the command's code.
/// </summary>
internal static class ExecCommand
{
    /// <summary>The vsock port vmm-exec-agent listens on by default.</summary>
    public const uint DefaultAgentPort = 1024;

    // Linux signal numbers (the guest is Linux too).
    private const int SigInt = 2;
    private const int SigTerm = 15;

    public static Command Create(CliContext context)
    {
        Option<string> socket = new("--socket", "-s") { Description = "The VM's control socket; vmm finds its virtio-vsock device there.", HelpName = "PATH" };
        Option<string> uds = new("--uds") { Description = "The virtio-vsock device's Unix socket, instead of --socket.", HelpName = "PATH" };
        Option<string> device = new("--device") { Description = "The virtio-vsock device's id when the VM has several.", HelpName = "ID" };
        Option<uint> port = new("--port") { Description = "The agent's vsock port.", HelpName = "N", DefaultValueFactory = _ => DefaultAgentPort };
        Option<bool> tty = new("--tty", "-t") { Description = "Run the command on a pseudo-terminal; this terminal goes to raw mode until it ends." };
        Option<bool> interactive = new("--interactive", "-i") { Description = "Forward stdin to the command (else its stdin is empty)." };
        Option<string[]> env = new("--env", "-e") { Description = "An environment variable for the command; repeatable.", HelpName = "K=V" };
        Option<string> cwd = new("--cwd", "-w") { Description = "The command's working directory in the guest.", HelpName = "DIR" };
        Option<int?> user = new("--user", "-u") { Description = "The user id to run the command as (default: the agent's, root).", HelpName = "UID" };
        Argument<string[]> command = new("COMMAND") { Description = "The command and its arguments (after --).", Arity = ArgumentArity.OneOrMore };
        Command exec = new("exec", "Runs a command in a running VM (virtio-vsock + the guest's vmm-exec-agent); exits with its exit code.")
        {
            socket, uds, device, port, tty, interactive, env, cwd, user, command,
        };
        exec.SetAction(async (parseResult, cancellationToken) =>
        {
            string? udsPath = parseResult.GetValue(uds);
            string? controlPath = parseResult.GetValue(socket);
            if ((udsPath is null) == (controlPath is null))
            {
                context.Error.WriteLine("vmm: exec needs exactly one of --socket CONTROL or --uds PATH");
                return ExitCodes.Usage;
            }

            string[] variables = parseResult.GetValue(env) ?? [];
            if (variables.FirstOrDefault(v => v.IndexOf('=', StringComparison.Ordinal) <= 0) is { } bad)
            {
                context.Error.WriteLine($"vmm: --env expects K=V, got '{bad}'");
                return ExitCodes.Usage;
            }

            try
            {
                udsPath ??= await ExecEndpoint.FindUdsAsync(controlPath!, parseResult.GetValue(device), cancellationToken).ConfigureAwait(false);
                var request = new ExecRequest(parseResult.GetValue(command)!)
                {
                    Environment = variables,
                    WorkingDirectory = parseResult.GetValue(cwd),
                    UserId = parseResult.GetValue(user),
                };
                return await RunAsync(context, udsPath, parseResult.GetValue(port), request, parseResult.GetValue(tty), parseResult.GetValue(interactive), TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (ExecException ex)
            {
                context.Error.WriteLine($"vmm: exec: {ex.Message}");
                return ExitCodes.ExecFailed;
            }
        });
        return exec;
    }

    /// <summary>
    /// Connects to the agent (retrying refusals until <paramref name="connectWithin"/> has passed: an agent still
    /// starting), runs <paramref name="request"/> and returns its exit code. Ctrl-C and SIGTERM are forwarded to the
    /// command rather than ending vmm; with <paramref name="tty"/> the terminal is raw and window changes follow.
    /// </summary>
    /// <exception cref="ExecException">The agent could not be reached, refused the command or went away.</exception>
    public static async Task<int> RunAsync(CliContext context, string uds, uint port, ExecRequest request, bool tty, bool interactive, TimeSpan connectWithin)
    {
        var session = new ExecSession(await ConnectWithRetryAsync(uds, port, connectWithin).ConfigureAwait(false));
        await using (session.ConfigureAwait(false))
        {
            bool terminal = tty && context.IsTerminal;
            if (tty)
            {
                request = request with { Terminal = terminal ? (Console.WindowHeight, Console.WindowWidth) : (24, 80) };
            }

            // The session ignores vmm's own cancellation (the first Ctrl-C): signals go to the command instead.
            using IDisposable forwarding = TerminationSignals.ForwardToCommand();
            using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => Forward(signal, session, SigInt));
            using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => Forward(signal, session, SigTerm));
            using PosixSignalRegistration? resize = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGWINCH, signal =>
            {
                signal.Cancel = true;
                if (terminal)
                {
                    _ = session.ResizeAsync(Console.WindowHeight, Console.WindowWidth, CancellationToken.None);
                }
            });
            using TerminalRawMode? raw = terminal ? TerminalRawMode.TryEnter() : null;
            Stream output = (context.OpenStandardOutput ?? (() => new TextWriterStream(context.Out)))();
            Stream error = (context.OpenStandardError ?? (() => new TextWriterStream(context.Error)))();
            Stream? input = !interactive ? null : raw is not null ? raw.OpenInput() : context.OpenStandardInput();
            return await session.RunAsync(request, input, output, error, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static void Forward(PosixSignalContext signal, ExecSession session, int number)
    {
        signal.Cancel = true;
        _ = session.SignalAsync(number, CancellationToken.None);
    }

    private static async Task<Stream> ConnectWithRetryAsync(string uds, uint port, TimeSpan within)
    {
        long deadline = Environment.TickCount64 + (long)within.TotalMilliseconds;
        while (true)
        {
            try
            {
                return await ExecConnection.ConnectAsync(uds, port, TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
            }
            catch (ExecException) when (Environment.TickCount64 < deadline)
            {
                await Task.Delay(250).ConfigureAwait(false);
            }
        }
    }
}
