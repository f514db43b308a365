namespace Vmm.Core.Config;

/// <summary>A VM config after validation: every value typed, every path absolute, every device's factory found.</summary>
/// <param name="Machine">Memory, vCPUs, kernel.</param>
/// <param name="Platform">The platform asked for.</param>
/// <param name="Devices">The devices, in config order, without the optional ones whose plugin is missing.</param>
/// <param name="Display">The display routing, or null.</param>
/// <param name="Control">The control socket, or null for none.</param>
/// <param name="BaseDirectory">The config file's folder, which relative paths were resolved against.</param>
public sealed record VmSpec(
    MachineSpec Machine,
    PlatformKind Platform,
    IReadOnlyList<DeviceSpec> Devices,
    DisplaySpec? Display,
    ControlSpec? Control,
    string BaseDirectory)
{
    /// <summary>Host evdev devices whose events go to the guest's input devices (the config's <c>input.evdev</c>).</summary>
    public IReadOnlyList<HostEvdevSpec> HostEvdevSources { get; init; } = [];
}
