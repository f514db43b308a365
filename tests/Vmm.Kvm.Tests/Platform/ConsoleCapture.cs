using System.Text;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>A console sink that keeps the text and completes a task when a marker appears.</summary>
internal sealed class ConsoleCapture(string? marker = null) : Stream
{
    private readonly StringBuilder _text = new();
    private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task MarkerSeen => _seen.Task;

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

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

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

    public override void Write(byte[] buffer, int offset, int count)
    {
        foreach (byte value in buffer.AsSpan(offset, count))
        {
            WriteByte(value);
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
