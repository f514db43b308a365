using Vmm.Contracts.Input;
using Vmm.Plugins.VirtioInput.Events;

namespace Vmm.Plugins.VirtioInput.Config;

/// <summary>
/// The four device kinds. Keyboard, mouse and tablet follow QEMU's virtio-keyboard/-mouse/-tablet
/// (hw/input/virtio-input-hid.c); the gamepad follows Linux's standard gamepad layout (xpad's axes and buttons).
/// </summary>
internal static class InputDeviceProfiles
{
    /// <summary>The vendor id QEMU's virtio-input devices report; kept so guest-side quirk tables treat us alike.</summary>
    public const ushort Vendor = 0x0627;

    /// <summary>QEMU's tablet range when no display size is given: 0..0x7FFF on both axes.</summary>
    public const int DefaultTabletMaximum = 0x7FFF;

    public const int StickMinimum = -32768;
    public const int StickMaximum = 32767;
    public const int StickFuzz = 16;
    public const int StickFlat = 128;
    public const int TriggerMaximum = 255;

    public static string DefaultName(InputDeviceKind kind) => kind switch
    {
        InputDeviceKind.Keyboard => "Vmm Virtio Keyboard",
        InputDeviceKind.Mouse => "Vmm Virtio Mouse",
        InputDeviceKind.Tablet => "Vmm Virtio Tablet",
        InputDeviceKind.Gamepad => "Vmm Virtio Gamepad",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Builds the profile of <paramref name="kind"/>; <paramref name="width"/>/<paramref name="height"/> (tablet) of 0 mean QEMU's range.</summary>
    public static InputDeviceProfile Create(InputDeviceKind kind, string? name, string? serial, int width = 0, int height = 0)
    {
        string deviceName = string.IsNullOrEmpty(name) ? DefaultName(kind) : name;
        string? deviceSerial = string.IsNullOrEmpty(serial) ? null : serial;
        return kind switch
        {
            InputDeviceKind.Keyboard => Keyboard(deviceName, deviceSerial),
            InputDeviceKind.Mouse => Mouse(deviceName, deviceSerial),
            InputDeviceKind.Tablet => Tablet(deviceName, deviceSerial, width, height),
            InputDeviceKind.Gamepad => Gamepad(deviceName, deviceSerial),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    private static InputDeviceProfile Keyboard(string name, string? serial)
    {
        var eventBits = new Dictionary<ushort, byte[]>
        {
            [InputEventTypes.Key] = InputDeviceProfile.Bitmap(Enumerable.Range(EvdevCodes.KeyEscape, EvdevCodes.KeyMicMute - EvdevCodes.KeyEscape + 1)),

            // QEMU answers EV_REP with size 1 and no bits: Linux only checks size != 0 and then repeats keys itself.
            [InputEventTypes.Repeat] = new byte[1],
            [InputEventTypes.Led] = InputDeviceProfile.Bitmap([EvdevCodes.LedNumLock, EvdevCodes.LedCapsLock, EvdevCodes.LedScrollLock]),
        };
        return new InputDeviceProfile(InputDeviceKind.Keyboard, name, serial, Ids(0x0001), [], eventBits, []);
    }

    private static InputDeviceProfile Mouse(string name, string? serial)
    {
        var eventBits = new Dictionary<ushort, byte[]>
        {
            [InputEventTypes.Key] = PointerButtons(),
            [InputEventTypes.Relative] = InputDeviceProfile.Bitmap([EvdevCodes.RelativeX, EvdevCodes.RelativeY, EvdevCodes.RelativeWheel]),
        };
        return new InputDeviceProfile(InputDeviceKind.Mouse, name, serial, Ids(0x0002), [], eventBits, []);
    }

    private static InputDeviceProfile Tablet(string name, string? serial, int width, int height)
    {
        var eventBits = new Dictionary<ushort, byte[]>
        {
            [InputEventTypes.Key] = PointerButtons(),
            [InputEventTypes.Relative] = InputDeviceProfile.Bitmap([EvdevCodes.RelativeWheel]),
            [InputEventTypes.Absolute] = InputDeviceProfile.Bitmap([EvdevCodes.AbsoluteX, EvdevCodes.AbsoluteY]),
        };
        var axes = new Dictionary<ushort, AbsoluteAxisInfo>
        {
            [EvdevCodes.AbsoluteX] = new(0, width > 0 ? width - 1 : DefaultTabletMaximum, 0, 0, 0),
            [EvdevCodes.AbsoluteY] = new(0, height > 0 ? height - 1 : DefaultTabletMaximum, 0, 0, 0),
        };

        // Like QEMU's virtio-tablet: no INPUT_PROP_DIRECT, so the guest treats it as a pointer, not a touchscreen.
        return new InputDeviceProfile(InputDeviceKind.Tablet, name, serial, Ids(0x0003), [], eventBits, axes);
    }

    private static InputDeviceProfile Gamepad(string name, string? serial)
    {
        var eventBits = new Dictionary<ushort, byte[]>
        {
            [InputEventTypes.Key] = InputDeviceProfile.Bitmap(
            [
                EvdevCodes.ButtonSouth, EvdevCodes.ButtonEast, EvdevCodes.ButtonNorth, EvdevCodes.ButtonWest,
                EvdevCodes.ButtonTriggerLeft, EvdevCodes.ButtonTriggerRight, EvdevCodes.ButtonTriggerLeft2, EvdevCodes.ButtonTriggerRight2,
                EvdevCodes.ButtonSelect, EvdevCodes.ButtonStart, EvdevCodes.ButtonMode, EvdevCodes.ButtonThumbLeft, EvdevCodes.ButtonThumbRight,
            ]),
            [InputEventTypes.Absolute] = InputDeviceProfile.Bitmap(
            [
                EvdevCodes.AbsoluteX, EvdevCodes.AbsoluteY, EvdevCodes.AbsoluteZ, EvdevCodes.AbsoluteRx, EvdevCodes.AbsoluteRy,
                EvdevCodes.AbsoluteRz, EvdevCodes.AbsoluteHat0X, EvdevCodes.AbsoluteHat0Y,
            ]),
        };
        var stick = new AbsoluteAxisInfo(StickMinimum, StickMaximum, StickFuzz, StickFlat, 0);
        var trigger = new AbsoluteAxisInfo(0, TriggerMaximum, 0, 0, 0);
        var hat = new AbsoluteAxisInfo(-1, 1, 0, 0, 0);
        var axes = new Dictionary<ushort, AbsoluteAxisInfo>
        {
            [EvdevCodes.AbsoluteX] = stick,
            [EvdevCodes.AbsoluteY] = stick,
            [EvdevCodes.AbsoluteZ] = trigger,
            [EvdevCodes.AbsoluteRx] = stick,
            [EvdevCodes.AbsoluteRy] = stick,
            [EvdevCodes.AbsoluteRz] = trigger,
            [EvdevCodes.AbsoluteHat0X] = hat,
            [EvdevCodes.AbsoluteHat0Y] = hat,
        };
        return new InputDeviceProfile(InputDeviceKind.Gamepad, name, serial, Ids(0x0010), [], eventBits, axes);
    }

    private static byte[] PointerButtons() => InputDeviceProfile.Bitmap(
        [EvdevCodes.ButtonLeft, EvdevCodes.ButtonRight, EvdevCodes.ButtonMiddle, EvdevCodes.ButtonSide, EvdevCodes.ButtonExtra]);

    private static InputDeviceIds Ids(ushort product) => new(EvdevCodes.BusVirtual, Vendor, product, 0x0001);
}
