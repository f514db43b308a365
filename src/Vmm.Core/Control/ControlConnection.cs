using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Vmm.Core.Control;

/// <summary>One client of a <see cref="ControlServer"/>: reads request lines and answers each in order.</summary>
internal sealed class ControlConnection
{
    private readonly Socket _socket;
    private readonly ControlCommandRegistry _commands;
    private readonly ILogger _logger;
    private readonly long _id;

    public ControlConnection(long id, Socket socket, ControlCommandRegistry commands, ILogger logger)
    {
        _id = id;
        _socket = socket;
        _commands = commands;
        _logger = logger;
    }

    /// <summary>
    /// Serves the client until it disconnects or <paramref name="stopping"/> fires; a reply computed by then is still
    /// written, until <paramref name="closing"/> fires.
    /// </summary>
    public async Task RunAsync(CancellationToken stopping, CancellationToken closing)
    {
        ControlLog.ClientConnected(_logger, _id);
        await using NetworkStream stream = new(_socket, ownsSocket: true);
        PipeReader reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            await ServeAsync(reader, stream, stopping, closing).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (IOException ex)
        {
            ControlLog.ConnectionFailed(_logger, _id, ex);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            ControlLog.ClientDisconnected(_logger, _id);
        }
    }

    private async Task ServeAsync(PipeReader reader, Stream stream, CancellationToken stopping, CancellationToken closing)
    {
        // After an oversize line, skip bytes up to its newline.
        bool discarding = false;
        while (true)
        {
            ReadResult read = await reader.ReadAsync(stopping).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = read.Buffer;
            while (TryTakeLine(ref buffer, out ReadOnlySequence<byte> line))
            {
                if (discarding)
                {
                    discarding = false;
                    continue;
                }

                // Lines read before the server began stopping but not yet answered are not run against a VM
                // that is going away.
                byte[] reply = line.Length > ControlProtocol.MaxLineBytes ? LineTooLong()
                    : stopping.IsCancellationRequested ? Stopping(line)
                    : await AnswerAsync(line, stopping).ConfigureAwait(false);
                await stream.WriteAsync(reply, closing).ConfigureAwait(false);
            }

            if (!discarding && buffer.Length > ControlProtocol.MaxLineBytes)
            {
                await stream.WriteAsync(LineTooLong(), closing).ConfigureAwait(false);
                discarding = true;
            }

            if (discarding)
            {
                reader.AdvanceTo(buffer.End);
            }
            else
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            if (read.IsCompleted)
            {
                return;
            }
        }
    }

    private static byte[] Stopping(ReadOnlySequence<byte> line)
    {
        ControlRequest.TryParse(line.ToArray(), out ControlRequest request, out ControlReplyError? error);
        return ControlReplyWriter.Failure(error?.Id ?? request.Id, ControlErrorCodes.Cancelled, "the control server is stopping");
    }

    private byte[] LineTooLong()
    {
        string message = $"expected a request line of at most {ControlProtocol.MaxLineBytes} bytes, got a longer one; skipped it";
        Reject(ControlErrorCodes.LineTooLong, message);
        return ControlReplyWriter.Failure(default, ControlErrorCodes.LineTooLong, message);
    }

    private static bool TryTakeLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        SequencePosition? newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return true;
    }

    private async ValueTask<byte[]> AnswerAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        byte[] bytes = line.ToArray();
        int length = bytes.Length > 0 && bytes[^1] == (byte)'\r' ? bytes.Length - 1 : bytes.Length;
        if (!ControlRequest.TryParse(bytes.AsSpan(0, length), out ControlRequest request, out ControlReplyError? error))
        {
            Reject(error!.Code, error.Message);
            return ControlReplyWriter.Failure(error.Id, error.Code, error.Message);
        }

        if (!_commands.TryGet(request.Command, out IControlCommand? command))
        {
            string message = $"expected one of the commands {string.Join(", ", _commands.Names)}, got '{request.Command}'";
            Reject(ControlErrorCodes.UnknownCommand, message);
            return ControlReplyWriter.Failure(request.Id, ControlErrorCodes.UnknownCommand, message);
        }

        try
        {
            JsonNode? result = await command.ExecuteAsync(request.Args, cancellationToken).ConfigureAwait(false);
            return ControlReplyWriter.Success(request.Id, result);
        }
        catch (ControlCommandException ex)
        {
            return ControlReplyWriter.Failure(request.Id, ex.Code, ex.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ControlReplyWriter.Failure(request.Id, ControlErrorCodes.Cancelled, "the control server is stopping");
        }
#pragma warning disable CA1031 // a failing command answers with an error; the connection and the VM go on
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ControlLog.CommandFailed(_logger, request.Command, ex);
            return ControlReplyWriter.Failure(request.Id, ControlErrorCodes.InternalError, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private void Reject(string code, string message)
    {
        ControlLog.RequestRejected(_logger, _id, code, message);
    }
}
