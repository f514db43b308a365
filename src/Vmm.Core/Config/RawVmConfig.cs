namespace Vmm.Core.Config;

/// <summary>
/// A VM config as read: the JSON values of each known member with their paths, not yet typed or checked beyond
/// the shape of the sections. Absent sections are null; <see cref="Devices"/> is empty when absent.
/// </summary>
internal sealed record RawVmConfig(
    string BaseDirectory,
    RawObject? Machine,
    RawValue? Platform,
    RawObject? Plugins,
    IReadOnlyList<RawObject> Devices,
    RawObject? Display,
    RawObject? Control,
    IReadOnlyList<RawObject> EvdevSources);
