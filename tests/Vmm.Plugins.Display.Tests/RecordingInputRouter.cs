using Vmm.Contracts.Input;

namespace Vmm.Plugins.Display.Tests;

/// <summary>An input router that records what is published.</summary>
internal sealed class RecordingInputRouter : IInputRouter
{
    private readonly Lock _lock = new();
    private readonly List<(InputDeviceKind Kind, InputEvent[] Events)> _published = [];

    public event Action<string, InputEvent>? StatusReported;

    public (InputDeviceKind Kind, InputEvent[] Events)[] Published
    {
        get
        {
            lock (_lock)
            {
                return [.. _published];
            }
        }
    }

    public void AddTarget(IInputTarget target)
    {
    }

    public void RemoveTarget(IInputTarget target)
    {
    }

    public bool Publish(InputDeviceKind kind, ReadOnlySpan<InputEvent> events, string? targetId = null)
    {
        lock (_lock)
        {
            _published.Add((kind, events.ToArray()));
        }

        return true;
    }

    public void ReportStatus(string deviceId, InputEvent status) => StatusReported?.Invoke(deviceId, status);
}
