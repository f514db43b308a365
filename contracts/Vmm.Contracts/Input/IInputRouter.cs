namespace Vmm.Contracts.Input;

/// <summary>
/// Routes input from sources (the control API, a VNC client, a host evdev device) to the guest's input devices,
/// and status events (keyboard LEDs) from the guest back to whoever listens. A host service plugins can depend on.
/// </summary>
public interface IInputRouter
{
    /// <summary>Makes a guest input device reachable.</summary>
    void AddTarget(IInputTarget target);

    /// <summary>Removes a guest input device.</summary>
    void RemoveTarget(IInputTarget target);

    /// <summary>
    /// Sends events to the first device of <paramref name="kind"/>, or to the device with id
    /// <paramref name="targetId"/> when given; a trailing SYN_REPORT is added when missing. Never blocks.
    /// Returns false when no such device exists.
    /// </summary>
    bool Publish(InputDeviceKind kind, ReadOnlySpan<InputEvent> events, string? targetId = null);

    /// <summary>Called by a device when the guest writes a status event (EV_LED and the like).</summary>
    void ReportStatus(string deviceId, InputEvent status);

    /// <summary>Raised for every status event the guest writes: the device id and the event.</summary>
    event Action<string, InputEvent>? StatusReported;
}
