using System.Text;

namespace Vmm.Testing.Diagnostics;

/// <summary>
/// A guest console sink (a platform's serial output) that keeps the text and completes <see cref="MarkerSeen"/>
/// when a line with <paramref name="marker"/> has been written.
/// </summary>
/// <param name="marker">Text to wait for, or null.</param>
public sealed class ConsoleCapture(string? marker = null) : Stream
{
    private readonly StringBuilder _text = new();
    private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a line holding the marker has been written.</summary>
    public Task MarkerSeen => _seen.Task;

    /// <summary>Everything written so far.</summary>
    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override void WriteByte(byte value)
    {
        lock (_text)
        {
            _text.Append((char)value);
            if (marker is not null && value == (byte)'\n' && _text.ToString().Contains(marker, StringComparison.Ordinal))
            {
                _seen.TrySetResult();
            }
        }
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count)
    {
        foreach (byte value in buffer.AsSpan(offset, count))
        {
            WriteByte(value);
        }
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();
}
