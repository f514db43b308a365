using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using Nerdbank.Streams;

namespace Vmm.Cli.Exec;

/// <summary>
/// One command run by the guest agent over one connection: a <see cref="MultiplexingStream"/> (protocol v1) on which
/// vmm offers the control, stdin, stdout and stderr channels, sends the request, pumps stdin and copies stdout and
/// stderr, and ends with the command's exit code (128 + N when a signal N killed it, as shells report it).
/// </summary>
internal sealed class ExecSession : IAsyncDisposable
{
    /// <summary>How long the agent may take to shake hands, accept the channels and say the command started.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    /// <summary>How long stdout and stderr may take to end once the agent sent the exit status.</summary>
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(5);

    private static readonly string[] s_channelNames =
    [
        ExecProtocol.ControlChannel, ExecProtocol.StandardInputChannel, ExecProtocol.StandardOutputChannel, ExecProtocol.StandardErrorChannel,
    ];

    private readonly Stream _transport;
    private readonly TimeSpan _startTimeout;
    private MultiplexingStream? _multiplexer;
    private ExecControlChannel? _control;

    /// <param name="transport">The connection to the agent (after the hybrid vsock handshake); the session owns it.</param>
    /// <param name="startTimeout">Overrides <see cref="StartTimeout"/>.</param>
    public ExecSession(Stream transport, TimeSpan? startTimeout = null)
    {
        _transport = transport;
        _startTimeout = startTimeout ?? StartTimeout;
    }

    /// <summary>The guest pid of the command, once started.</summary>
    public int? GuestPid { get; private set; }

    /// <summary>Forwards a signal (Linux numbering) to the command's process group; nothing before it started.</summary>
    public Task SignalAsync(int signal, CancellationToken cancellationToken)
        => SendControlAsync($"{ExecProtocol.SignalKey}={signal.ToString(CultureInfo.InvariantCulture)}", cancellationToken);

    /// <summary>Tells the command's pty its new size.</summary>
    public Task ResizeAsync(int rows, int columns, CancellationToken cancellationToken)
        => SendControlAsync(string.Create(CultureInfo.InvariantCulture, $"{ExecProtocol.WindowSizeKey}={rows},{columns}"), cancellationToken);

    /// <summary>Runs <paramref name="request"/>; returns the command's exit code.</summary>
    /// <param name="request">The command.</param>
    /// <param name="input">What goes to the command's stdin, or null to close its stdin at once (left open on a pty).</param>
    /// <param name="output">Where stdout (or the pty) goes.</param>
    /// <param name="error">Where stderr goes.</param>
    /// <param name="cancellationToken">Ends the session (the agent then kills the command when the connection closes).</param>
    /// <exception cref="ExecException">The agent refused the command, broke the protocol or went away.</exception>
    public async Task<int> RunAsync(ExecRequest request, Stream? input, Stream output, Stream error, CancellationToken cancellationToken)
    {
        MultiplexingStream.Channel[] channels = await StartAsync(request, cancellationToken).ConfigureAwait(false);
        using var stopStdin = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        PipeWriter stdin = channels[1].Output;
        Task stdinPump = input is not null ? PumpStdinAsync(input, stdin, stopStdin.Token)
            : request.Terminal is null ? stdin.CompleteAsync().AsTask()
            : Task.CompletedTask;
        Task copies = Task.WhenAll(CopyAsync(channels[2].Input, output, cancellationToken), CopyAsync(channels[3].Input, error, cancellationToken));
        try
        {
            int code = await ReceiveExitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await copies.WaitAsync(s_drainTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new ExecException($"the guest agent sent the exit status but did not end stdout and stderr within {s_drainTimeout.TotalSeconds:0} s");
            }

            return code;
        }
        finally
        {
            // A console read may not honour cancellation: a pump still blocked in it is left behind.
            await stopStdin.CancelAsync().ConfigureAwait(false);
            if (stdinPump.IsCompleted)
            {
                await stdinPump.ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is not null)
        {
            await _multiplexer.DisposeAsync().ConfigureAwait(false);
        }

        _control?.Dispose();
        await _transport.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The handshake, the four channels, the request and the agent's <c>pid=</c>, all within the start timeout.</summary>
    private async Task<MultiplexingStream.Channel[]> StartAsync(ExecRequest request, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_startTimeout);
        try
        {
            var options = new MultiplexingStream.Options { ProtocolMajorVersion = ExecProtocol.MultiplexingProtocolVersion };
            _multiplexer = await MultiplexingStream.CreateAsync(_transport, options, deadline.Token).ConfigureAwait(false);
            MultiplexingStream.Channel[] channels = await Task.WhenAll(
                s_channelNames.Select(name => _multiplexer.OfferChannelAsync(name, deadline.Token))).ConfigureAwait(false);
            var control = new ExecControlChannel(channels[0]);
            await control.SendAsync(request.Records(), deadline.Token).ConfigureAwait(false);
            (string Key, string Value)? first = await control.ReceiveAsync(deadline.Token).ConfigureAwait(false);
            switch (first)
            {
                case (ExecProtocol.PidKey, string pid) when int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int number):
                    GuestPid = number;
                    _control = control;
                    return channels;
                case (ExecProtocol.ErrorKey, string message):
                    throw new ExecException("the guest agent: " + message);
                case null:
                    throw await LostAsync("before the command started").ConfigureAwait(false);
                default:
                    throw new ExecException($"the guest agent answered the request with '{first.Value.Key}={first.Value.Value}', not pid=N");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ExecException($"the guest agent did not start the command within {_startTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is MultiplexingProtocolException or EndOfStreamException or IOException or ObjectDisposedException)
        {
            throw new ExecException($"the guest agent's connection failed before the command started: {ex.Message}", ex);
        }
    }

    /// <summary>The control records after <c>pid=</c>: the last one is the exit status (or an error).</summary>
    private async Task<int> ReceiveExitAsync(CancellationToken cancellationToken)
    {
        (string Key, string Value)? record;
        try
        {
            record = await _control!.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            record = null;
        }

        return record switch
        {
            (ExecProtocol.ExitKey, string value) when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int code) => code & 0xFF,
            (ExecProtocol.KilledBySignalKey, string value) when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int signal) => 128 + (signal & 0x7F),
            (ExecProtocol.ErrorKey, string message) => throw new ExecException("the guest agent: " + message),
            null => throw await LostAsync("before the command's exit status (was the agent killed?)").ConfigureAwait(false),
            _ => throw new ExecException($"the guest agent sent '{record.Value.Key}={record.Value.Value}' where the exit status belongs"),
        };
    }

    /// <summary>
    /// The control channel ended: the multiplexer's fault if the agent broke the protocol, else a closed connection
    /// (also when the multiplexer ended on an IOException: a reset or a cut stream, which an agent killed mid-command leaves).
    /// </summary>
    private async Task<ExecException> LostAsync(string when)
    {
        Task completion = _multiplexer?.Completion ?? Task.CompletedTask;
        await Task.WhenAny(completion, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        return completion.Exception?.InnerException is Exception fault and not IOException
            ? new ExecException($"the guest agent broke the multiplexing protocol: {fault.Message}", fault)
            : new ExecException($"the guest agent closed the connection {when}");
    }

    private async Task SendControlAsync(string record, CancellationToken cancellationToken)
    {
        if (_control is null)
        {
            return;
        }

        try
        {
            await _control.SendAsync([record], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The command or the connection already ended: there is no one left to signal.
        }
    }

    private static async Task CopyAsync(PipeReader source, Stream target, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await source.ReadAsync(cancellationToken).ConfigureAwait(false);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                await target.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
            }

            if (!result.Buffer.IsEmpty)
            {
                await target.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            source.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    private static async Task PumpStdinAsync(Stream input, PipeWriter stdin, CancellationToken cancellationToken)
    {
        try
        {
            await input.CopyToAsync(stdin, cancellationToken).ConfigureAwait(false);
            await stdin.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The command ended (or the connection did): what stdin still had is not wanted.
        }
    }
}
