namespace Vmm.Contracts.Devices;

/// <summary>
/// Builds devices of one type from their options. Register implementations in
/// <see cref="Plugins.IVmmPlugin.ConfigureServices"/>; derive from <see cref="DeviceFactory{TOptions}"/> rather
/// than implementing this directly.
/// </summary>
public interface IDeviceFactory
{
    /// <summary>The device type a VM config names, for example <c>virtio-rng</c>. Lower case, unique per host.</summary>
    string DeviceType { get; }

    /// <summary>A one-line description shown by <c>vmm plugins list</c>.</summary>
    string Description { get; }

    /// <summary>
    /// The type the config's <c>options</c> object is read into (System.Text.Json, camelCase, unknown members
    /// rejected). It needs a public parameterless constructor; its defaults are the device's defaults.
    /// </summary>
    Type OptionsType { get; }

    /// <summary>Checks options after they were read; reports every problem to <paramref name="context"/>.</summary>
    void Validate(object options, DeviceOptionsValidationContext context);

    /// <summary>Creates a device from options that passed <see cref="Validate"/>.</summary>
    IDevice Create(DeviceCreateContext context, object options);
}
