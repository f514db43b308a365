using System.Runtime.InteropServices;

namespace Vmm.Cli;

/// <summary>
/// Turns SIGINT (Ctrl-C) and SIGTERM into a cancellation, from before the command line is parsed until vmm returns.
/// System.CommandLine's own handler is registered only after a command's action has started running, and a signal
/// in that window (the VM already booting) killed vmm without its clean stop. A stop that hangs does not keep vmm
/// alive: a second signal is not held back (the runtime's default ends the process), and the force-exit action
/// runs a while after the first.
/// </summary>
internal sealed class TerminationSignals : IDisposable
{
    // Signals are process-wide, so is the forwarding: any registration sees it.
    private static int s_forwarders;

    private readonly CancellationTokenSource _cancellation = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private readonly TimeSpan _forceExitAfter;
    private readonly Action _forceExit;
    private Timer? _forceExitTimer;
    private int _received;

    private TerminationSignals(TimeSpan forceExitAfter, Action forceExit)
    {
        _forceExitAfter = forceExitAfter;
        _forceExit = forceExit;
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>Starts turning the signals into <see cref="Token"/>'s cancellation; <paramref name="forceExit"/> runs <paramref name="forceExitAfter"/> after the first signal.</summary>
    public static TerminationSignals Register(TimeSpan forceExitAfter, Action forceExit)
    {
        ArgumentNullException.ThrowIfNull(forceExit);
        return new TerminationSignals(forceExitAfter, forceExit);
    }

    /// <summary>
    /// While the scope is open, SIGINT and SIGTERM belong to a command that forwards them (<c>vmm exec</c> hands them to
    /// the guest command): they neither cancel vmm nor start the force-exit clock, since the guest command may handle
    /// a Ctrl-C and go on.
    /// </summary>
    public static IDisposable ForwardToCommand()
    {
        Interlocked.Increment(ref s_forwarders);
        return new ForwardingScope();
    }

    /// <summary>Stops handling the signals. The token source is left to the collector: a handler may still be running.</summary>
    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        Interlocked.Exchange(ref _forceExitTimer, null)?.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Volatile.Read(ref s_forwarders) > 0)
        {
            context.Cancel = true; // the forwarder's own handler delivers it
            return;
        }

        if (Interlocked.Increment(ref _received) > 1)
        {
            return; // the default action: the process ends now
        }

        context.Cancel = true;
        _forceExitTimer = new Timer(_ => _forceExit(), null, _forceExitAfter, Timeout.InfiniteTimeSpan);
        try
        {
            _cancellation.Cancel();
        }
#pragma warning disable CA1031 // On the runtime's signal thread: a throwing callback must not crash vmm; the command still sees the cancellation.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private sealed class ForwardingScope : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref s_forwarders);
            }
        }
    }
}
