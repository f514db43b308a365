using Vmm.Contracts.Devices;
using Vmm.Core.Virtio.Execution;

namespace Vmm.Core.Config;

/// <summary>One validated device of a VM config, ready for its factory.</summary>
/// <param name="Id">The device's id, unique within the VM.</param>
/// <param name="Plugin">The plugin that provides the device type.</param>
/// <param name="Type">The device type.</param>
/// <param name="Options">The options, already read into the factory's <see cref="IDeviceFactory.OptionsType"/> and validated.</param>
/// <param name="Factory">The factory that creates the device.</param>
/// <param name="ConfigPath">The device's JSON path, for messages (<c>$.devices[0]</c>).</param>
public sealed record DeviceSpec(string Id, string Plugin, string Type, object Options, IDeviceFactory Factory, string ConfigPath)
{
    /// <summary>What a virtio device may take before its worker fails it: the config's <c>limits</c> over the defaults.</summary>
    public DeviceLimits Limits { get; init; } = DeviceLimits.Default;
}
