using System.Buffers.Binary;
using System.Text;

namespace Vmm.Cli.Exec;

/// <summary>
/// One command run by the guest agent: sends START, pumps stdin into STDIN frames, OUTPUT frames into stdout and
/// stderr, and ends with the command's exit code (128 + N when a signal N killed it, as shells report it).
/// </summary>
internal sealed class ExecSession
{
    /// <summary>How long the agent may take to say the command started.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private const int StdinChunk = 32 * 1024;
    private readonly ExecConnection _connection;
    private readonly TimeSpan _startTimeout;
    private readonly byte[] _payload = new byte[ExecFrameHeader.MaxPayload];

    public ExecSession(ExecConnection connection, TimeSpan? startTimeout = null)
    {
        _connection = connection;
        _startTimeout = startTimeout ?? StartTimeout;
    }

    /// <summary>The guest pid of the command, once started.</summary>
    public uint? GuestPid { get; private set; }

    /// <summary>Forwards a signal (Linux numbering) to the command's process group.</summary>
    public Task SignalAsync(int signal, CancellationToken cancellationToken)
        => _connection.SendUInt32Async(ExecFrameType.Signal, (uint)signal, cancellationToken);

    /// <summary>Tells the command's pty its new size.</summary>
    public Task ResizeAsync(int rows, int columns, CancellationToken cancellationToken)
    {
        byte[] payload = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(payload, (ushort)Math.Clamp(rows, 0, ushort.MaxValue));
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(2), (ushort)Math.Clamp(columns, 0, ushort.MaxValue));
        return _connection.SendAsync(ExecFrameType.Resize, payload, cancellationToken);
    }

    /// <summary>Runs <paramref name="request"/>; returns the command's exit code.</summary>
    /// <param name="request">The command.</param>
    /// <param name="input">What goes to the command's stdin, or null to close its stdin at once.</param>
    /// <param name="output">Where stdout (or the pty) goes.</param>
    /// <param name="error">Where stderr goes.</param>
    /// <param name="cancellationToken">Ends the session (the agent then kills the command when the connection closes).</param>
    /// <exception cref="ExecException">The agent refused the command, broke the protocol or went away.</exception>
    public async Task<int> RunAsync(ExecRequest request, Stream? input, Stream output, Stream error, CancellationToken cancellationToken)
    {
        await _connection.SendAsync(ExecFrameType.Start, request.Encode(), cancellationToken).ConfigureAwait(false);
        using (var startDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            startDeadline.CancelAfter(_startTimeout);
            ExecFrameHeader? first;
            try
            {
                first = await _connection.ReceiveAsync(_payload, startDeadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ExecException($"the guest agent did not start the command within {_startTimeout.TotalSeconds:0} s");
            }

            if (first is not { Type: ExecFrameType.Started, Length: 4 } started)
            {
                return Finish(first) ?? throw new ExecException($"the guest agent answered START with frame type {(int?)first?.Type}, not STARTED");
            }

            GuestPid = BinaryPrimitives.ReadUInt32LittleEndian(_payload);
        }

        using var stopStdin = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task stdin = input is null
            ? (request.Terminal is null ? CloseStdinAsync(cancellationToken) : Task.CompletedTask)
            : PumpStdinAsync(input, stopStdin.Token);
        try
        {
            while (true)
            {
                ExecFrameHeader? frame = await _connection.ReceiveAsync(_payload, cancellationToken).ConfigureAwait(false);
                if (frame is { Type: ExecFrameType.Output } outputFrame)
                {
                    Stream target = outputFrame.Stream == ExecFrameHeader.StandardError ? error : output;
                    if (outputFrame.Length > 0)
                    {
                        await target.WriteAsync(_payload.AsMemory(0, (int)outputFrame.Length), cancellationToken).ConfigureAwait(false);
                        await target.FlushAsync(cancellationToken).ConfigureAwait(false);
                    }

                    continue;
                }

                return Finish(frame) ?? throw new ExecException($"the guest agent sent an unexpected frame type {(int?)frame?.Type}");
            }
        }
        finally
        {
            await stopStdin.CancelAsync().ConfigureAwait(false);
            if (stdin.IsCompleted)
            {
                await stdin.ConfigureAwait(false);
            }
        }
    }

    /// <summary>The exit code an EXIT frame carries; an ERROR frame or a lost connection throws; null for other frames.</summary>
    private int? Finish(ExecFrameHeader? frame)
    {
        switch (frame)
        {
            case null:
                throw new ExecException("the guest agent closed the connection before the command's exit status (was the agent killed?)");
            case { Type: ExecFrameType.Error } errorFrame:
                throw new ExecException("the guest agent: " + Encoding.UTF8.GetString(_payload, 0, (int)errorFrame.Length));
            case { Type: ExecFrameType.Exit, Length: 8 }:
                uint kind = BinaryPrimitives.ReadUInt32LittleEndian(_payload);
                uint value = BinaryPrimitives.ReadUInt32LittleEndian(_payload.AsSpan(4));
                return kind switch
                {
                    0 => (int)(value & 0xFF),
                    1 => 128 + (int)(value & 0x7F),
                    _ => throw new ExecException($"the guest agent sent an exit status of unknown kind {kind}"),
                };
            default:
                return null;
        }
    }

    /// <summary>An empty stdin: EOF at once (a command that already ended may have closed the connection).</summary>
    private async Task CloseStdinAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _connection.SendAsync(ExecFrameType.Stdin, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }
        catch (ExecException)
        {
        }
    }

    private async Task PumpStdinAsync(Stream input, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[StdinChunk];
        try
        {
            while (true)
            {
                int n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                await _connection.SendAsync(ExecFrameType.Stdin, buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or ExecException)
        {
            // The command ended (or the connection did): what stdin still had is not wanted.
        }
    }
}
