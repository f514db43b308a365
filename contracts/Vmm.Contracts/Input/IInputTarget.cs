using Vmm.Contracts.Devices;

namespace Vmm.Contracts.Input;

/// <summary>A guest input device the input router delivers to (a virtio-input device).</summary>
public interface IInputTarget : IDevice
{
    /// <summary>What the device presents itself as.</summary>
    InputDeviceKind Kind { get; }

    /// <summary>
    /// Queues events for the guest; never blocks. The caller frames groups with SYN_REPORT. Past the device's
    /// bound the oldest events are dropped and counted.
    /// </summary>
    void Deliver(ReadOnlySpan<InputEvent> events);
}
