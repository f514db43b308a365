using System.Runtime.InteropServices;

namespace Vmm.Cli;

/// <summary>
/// Turns SIGINT (Ctrl-C) and SIGTERM into a cancellation, from before the command line is parsed until vmm returns.
/// System.CommandLine's own handler is registered only after a command's action has started running, and a signal
/// in that window (the VM already booting) killed vmm without its clean stop. A second signal is not held back: it
/// ends the process at once, for a stop that hangs.
/// </summary>
internal sealed class TerminationSignals : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private int _received;

    private TerminationSignals()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>Starts turning the signals into <see cref="Token"/>'s cancellation.</summary>
    public static TerminationSignals Register() => new();

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _cancellation.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _received) > 1)
        {
            return; // the default action: the process ends now
        }

        context.Cancel = true;
        _cancellation.Cancel();
    }
}
