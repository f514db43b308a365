using Vmm.Contracts.Devices;

namespace MyPlugin;

/// <summary>Builds <see cref="MyDevice"/>s from <see cref="MyDeviceOptions"/>.</summary>
public sealed class MyDeviceFactory : DeviceFactory<MyDeviceOptions>
{
    /// <inheritdoc />
    public override string DeviceType => "my-device";

    /// <inheritdoc />
    public override string Description => "A virtio entropy device that answers with a fixed byte.";

    /// <inheritdoc />
    protected override void Validate(MyDeviceOptions options, DeviceOptionsValidationContext context)
    {
        if (options.Fill is < 0 or > 255)
        {
            context.AddError("fill", $"must be a byte (0 to 255), not {options.Fill}.");
        }
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, MyDeviceOptions options)
        => new MyDevice(context.Id, (byte)options.Fill);
}
