using System.Text;

namespace Vmm.Integration.Tests.Cli;

/// <summary>A console that keeps what the guest printed and says when a marker first appears.</summary>
internal sealed class MarkerWriter(string marker) : TextWriter
{
    private readonly StringBuilder _text = new();

    public TaskCompletionSource Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_text)
        {
            _text.Append(value);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_text)
        {
            _text.AppendLine(value);
        }

        if (value?.Contains(marker, StringComparison.Ordinal) == true)
        {
            Seen.TrySetResult();
        }
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}
