namespace Vmm.Plugins.VirtioInput.Config;

/// <summary>The values of <c>virtio_input_config.select</c> (virtio 1.2 §5.8.4).</summary>
internal static class VirtioInputConfigSelect
{
    public const byte Unset = 0x00;
    public const byte IdName = 0x01;
    public const byte IdSerial = 0x02;
    public const byte IdDeviceIds = 0x03;
    public const byte PropertyBits = 0x10;
    public const byte EventBits = 0x11;
    public const byte AbsoluteInfo = 0x12;
}
