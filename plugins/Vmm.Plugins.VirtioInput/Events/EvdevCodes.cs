namespace Vmm.Plugins.VirtioInput.Events;

/// <summary>The evdev codes the device profiles use (linux/input-event-codes.h); event types are in the contracts.</summary>
internal static class EvdevCodes
{
    public const ushort SynReport = 0x00;

    public const ushort KeyEscape = 1;
    public const ushort KeyMicMute = 248;

    public const ushort ButtonLeft = 0x110;
    public const ushort ButtonRight = 0x111;
    public const ushort ButtonMiddle = 0x112;
    public const ushort ButtonSide = 0x113;
    public const ushort ButtonExtra = 0x114;

    public const ushort ButtonSouth = 0x130;
    public const ushort ButtonEast = 0x131;
    public const ushort ButtonNorth = 0x133;
    public const ushort ButtonWest = 0x134;
    public const ushort ButtonTriggerLeft = 0x136;
    public const ushort ButtonTriggerRight = 0x137;
    public const ushort ButtonTriggerLeft2 = 0x138;
    public const ushort ButtonTriggerRight2 = 0x139;
    public const ushort ButtonSelect = 0x13a;
    public const ushort ButtonStart = 0x13b;
    public const ushort ButtonMode = 0x13c;
    public const ushort ButtonThumbLeft = 0x13d;
    public const ushort ButtonThumbRight = 0x13e;

    public const ushort RelativeX = 0x00;
    public const ushort RelativeY = 0x01;
    public const ushort RelativeWheel = 0x08;

    public const ushort AbsoluteX = 0x00;
    public const ushort AbsoluteY = 0x01;
    public const ushort AbsoluteZ = 0x02;
    public const ushort AbsoluteRx = 0x03;
    public const ushort AbsoluteRy = 0x04;
    public const ushort AbsoluteRz = 0x05;
    public const ushort AbsoluteHat0X = 0x10;
    public const ushort AbsoluteHat0Y = 0x11;

    public const ushort LedNumLock = 0x00;
    public const ushort LedCapsLock = 0x01;
    public const ushort LedScrollLock = 0x02;

    /// <summary>BUS_VIRTUAL, what QEMU's virtio-input devices report.</summary>
    public const ushort BusVirtual = 0x06;
}
