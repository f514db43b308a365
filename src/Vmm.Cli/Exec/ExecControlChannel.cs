using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace Vmm.Cli.Exec;

/// <summary>
/// The control channel's records: NUL-terminated <c>key=value</c> (UTF-8) each way. Sends are serialized (the request,
/// signals and window sizes share the channel); one reader at a time.
/// </summary>
internal sealed class ExecControlChannel : IDisposable
{
    private readonly IDuplexPipe _channel;
    private readonly SemaphoreSlim _sendGate = new(1, 1);

    public ExecControlChannel(IDuplexPipe channel) => _channel = channel;

    /// <summary>The records' bytes, each ended by NUL.</summary>
    /// <exception cref="ArgumentException">A record holds a NUL of its own.</exception>
    public static byte[] Encode(IEnumerable<string> records)
    {
        var bytes = new StringBuilder();
        foreach (string record in records)
        {
            if (record.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{record}' contains a NUL character.", nameof(records));
            }

            bytes.Append(record).Append('\0');
        }

        return Encoding.UTF8.GetBytes(bytes.ToString());
    }

    /// <summary>Sends records.</summary>
    public async Task SendAsync(IEnumerable<string> records, CancellationToken cancellationToken)
    {
        byte[] bytes = Encode(records);
        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _channel.Output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>The next record as key and value, or null when the agent ended the channel (or the connection ended).</summary>
    /// <exception cref="ExecException">A record longer than <see cref="ExecProtocol.MaxRecordBytes"/>.</exception>
    public async Task<(string Key, string Value)?> ReceiveAsync(CancellationToken cancellationToken)
    {
        PipeReader reader = _channel.Input;
        while (true)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.PositionOf((byte)0) is SequencePosition nul)
            {
                string record = Encoding.UTF8.GetString(buffer.Slice(0, nul));
                reader.AdvanceTo(buffer.GetPosition(1, nul));
                int equals = record.IndexOf('=', StringComparison.Ordinal);
                return equals < 0 ? (record, string.Empty) : (record[..equals], record[(equals + 1)..]);
            }

            if (buffer.Length > ExecProtocol.MaxRecordBytes)
            {
                throw new ExecException($"the guest agent sent a control record longer than {ExecProtocol.MaxRecordBytes} bytes");
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _sendGate.Dispose();
}
