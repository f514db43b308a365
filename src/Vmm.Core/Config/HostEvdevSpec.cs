using Vmm.Contracts.Input;

namespace Vmm.Core.Config;

/// <summary>A host evdev device (<c>/dev/input/eventN</c>) opened read-only whose events go to the guest.</summary>
/// <param name="Path">The device's absolute path.</param>
/// <param name="Kind">The kind of guest input device the events go to.</param>
/// <param name="DeviceId">The id of the guest input device, or null for the first of <paramref name="Kind"/>.</param>
public sealed record HostEvdevSpec(string Path, InputDeviceKind Kind, string? DeviceId);
