namespace Vmm.Core.Virtio.Pci;

/// <summary>device_status bits (virtio 1.2 §2.1).</summary>
public static class VirtioDeviceStatus
{
    /// <summary>ACKNOWLEDGE: the guest found the device.</summary>
    public const byte Acknowledge = 0x01;

    /// <summary>DRIVER: the guest has a driver for it.</summary>
    public const byte Driver = 0x02;

    /// <summary>DRIVER_OK: the driver is ready.</summary>
    public const byte DriverOk = 0x04;

    /// <summary>FEATURES_OK: the driver accepted the features; the device agreed.</summary>
    public const byte FeaturesOk = 0x08;

    /// <summary>DEVICE_NEEDS_RESET: the device failed and must be reset.</summary>
    public const byte DeviceNeedsReset = 0x40;

    /// <summary>FAILED: the driver gave up on the device.</summary>
    public const byte Failed = 0x80;
}
