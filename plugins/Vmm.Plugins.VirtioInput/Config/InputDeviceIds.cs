namespace Vmm.Plugins.VirtioInput.Config;

/// <summary><c>virtio_input_devids</c>: what the guest reports as the device's input_id.</summary>
internal readonly record struct InputDeviceIds(ushort BusType, ushort Vendor, ushort Product, ushort Version)
{
    /// <summary>The size of the structure in the config union.</summary>
    public const int Size = 8;
}
