using Vmm.Contracts.Input;

namespace Vmm.Core.Tests.Input;

internal sealed class RecordingInputTarget(string id, InputDeviceKind kind) : IInputTarget
{
    private readonly Lock _sync = new();
    private readonly List<InputEvent[]> _batches = [];

    public string Id { get; } = id;

    public InputDeviceKind Kind { get; } = kind;

    public bool Throw { get; set; }

    public List<InputEvent[]> Batches
    {
        get
        {
            lock (_sync)
            {
                return [.. _batches];
            }
        }
    }

    public void Deliver(ReadOnlySpan<InputEvent> events)
    {
        if (Throw)
        {
            throw new InvalidOperationException("device broken");
        }

        lock (_sync)
        {
            _batches.Add(events.ToArray());
        }
    }

    public void Dispose()
    {
    }
}
