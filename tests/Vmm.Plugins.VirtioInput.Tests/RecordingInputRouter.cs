using Vmm.Contracts.Input;

namespace Vmm.Plugins.VirtioInput.Tests;

/// <summary>A router that records what devices tell it.</summary>
internal sealed class RecordingInputRouter : IInputRouter
{
    public List<IInputTarget> Targets { get; } = [];

    public List<(string DeviceId, InputEvent Status)> Statuses { get; } = [];

    public event Action<string, InputEvent>? StatusReported;

    public void AddTarget(IInputTarget target) => Targets.Add(target);

    public void RemoveTarget(IInputTarget target) => Targets.Remove(target);

    public bool Publish(InputDeviceKind kind, ReadOnlySpan<InputEvent> events, string? targetId = null) => throw new NotSupportedException();

    public void ReportStatus(string deviceId, InputEvent status)
    {
        Statuses.Add((deviceId, status));
        StatusReported?.Invoke(deviceId, status);
    }
}
