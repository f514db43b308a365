using Vmm.Core.Diagnostics;

namespace Vmm.Cli;

/// <summary>The entry point of the <c>vmm</c> command.</summary>
public static class Program
{
    /// <summary>Runs vmm with the console's streams; a guest's serial console is the terminal.</summary>
    public static async Task<int> Main(string[] args)
    {
        StartupTrace.Mark("Main entered");

        // As System.CommandLine did: a run that has not stopped 15 s after Ctrl-C (QEMU gets 5 s) ends anyway.
        using TerminationSignals signals = TerminationSignals.Register(TimeSpan.FromSeconds(15), () =>
        {
            Console.Error.WriteLine("vmm: did not stop within 15 s of the signal; exiting");
            Environment.Exit(ExitCodes.Interrupted);
        });
        try
        {
            return await VmmCommand.RunAsync(args, CliContext.CreateDefault(Console.Out, Console.Error, inheritConsole: true), signals.Token).ConfigureAwait(false);
        }
        finally
        {
            StartupTrace.Mark("command ended");
            StartupTrace.Flush();
        }
    }

    /// <summary>Runs vmm with <paramref name="output"/> and <paramref name="error"/> as its stdout and stderr (a guest's console goes to <paramref name="output"/>).</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        VmmCommand.RunAsync(args, CliContext.CreateDefault(output, error), cancellationToken);
}
