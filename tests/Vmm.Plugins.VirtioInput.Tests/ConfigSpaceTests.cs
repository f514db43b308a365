using Vmm.Contracts.Input;
using Vmm.Plugins.VirtioInput.Config;
using Xunit;

namespace Vmm.Plugins.VirtioInput.Tests;

/// <summary>
/// The config space as Linux 6.1's virtinput_probe reads it: one-byte writes of select then subsel, then size,
/// then the union byte by byte. Expected bytes are written out by hand from the profiles' definitions.
/// </summary>
public sealed class ConfigSpaceTests
{
    private const byte IdName = 0x01;
    private const byte IdSerial = 0x02;
    private const byte IdDevids = 0x03;
    private const byte PropBits = 0x10;
    private const byte EvBits = 0x11;
    private const byte AbsInfo = 0x12;

    public static TheoryData<InputDeviceKind, byte, byte, string> Golden => new()
    {
        // Keyboard: every key from KEY_ESC (1) to KEY_MICMUTE (248), EV_REP as QEMU (size 1, empty), 3 LEDs.
        { InputDeviceKind.Keyboard, IdName, 0, Hex("Vmm Virtio Keyboard"u8) },
        { InputDeviceKind.Keyboard, IdSerial, 0, Hex("SN-1"u8) },
        { InputDeviceKind.Keyboard, IdDevids, 0, "0600270601000100" },
        { InputDeviceKind.Keyboard, PropBits, 0, "" },
        { InputDeviceKind.Keyboard, EvBits, 0x01, "FE" + string.Concat(Enumerable.Repeat("FF", 30)) + "01" },
        { InputDeviceKind.Keyboard, EvBits, 0x14, "00" },
        { InputDeviceKind.Keyboard, EvBits, 0x11, "07" },
        { InputDeviceKind.Keyboard, EvBits, 0x02, "" },
        { InputDeviceKind.Keyboard, EvBits, 0x03, "" },
        { InputDeviceKind.Keyboard, AbsInfo, 0x00, "" },

        // Mouse: REL_X, REL_Y, REL_WHEEL; BTN_LEFT..BTN_EXTRA (0x110-0x114, byte 34).
        { InputDeviceKind.Mouse, IdName, 0, Hex("Vmm Virtio Mouse"u8) },
        { InputDeviceKind.Mouse, IdDevids, 0, "0600270602000100" },
        { InputDeviceKind.Mouse, EvBits, 0x01, string.Concat(Enumerable.Repeat("00", 34)) + "1F" },
        { InputDeviceKind.Mouse, EvBits, 0x02, "0301" },
        { InputDeviceKind.Mouse, EvBits, 0x03, "" },
        { InputDeviceKind.Mouse, EvBits, 0x14, "" },
        { InputDeviceKind.Mouse, EvBits, 0x11, "" },

        // Tablet (QEMU's): ABS_X/ABS_Y 0..0x7FFF, REL_WHEEL, the mouse buttons, no properties.
        { InputDeviceKind.Tablet, IdDevids, 0, "0600270603000100" },
        { InputDeviceKind.Tablet, PropBits, 0, "" },
        { InputDeviceKind.Tablet, EvBits, 0x01, string.Concat(Enumerable.Repeat("00", 34)) + "1F" },
        { InputDeviceKind.Tablet, EvBits, 0x02, "0001" },
        { InputDeviceKind.Tablet, EvBits, 0x03, "03" },
        { InputDeviceKind.Tablet, AbsInfo, 0x00, "00000000" + "FF7F0000" + "00000000" + "00000000" + "00000000" },
        { InputDeviceKind.Tablet, AbsInfo, 0x01, "00000000" + "FF7F0000" + "00000000" + "00000000" + "00000000" },
        { InputDeviceKind.Tablet, AbsInfo, 0x02, "" },

        // Gamepad: BTN_SOUTH/EAST/NORTH/WEST/TL/TR (byte 38 = 0xDB), TL2..THUMBR (byte 39 = 0x7F); sticks, triggers, hat.
        { InputDeviceKind.Gamepad, IdName, 0, Hex("Vmm Virtio Gamepad"u8) },
        { InputDeviceKind.Gamepad, IdDevids, 0, "0600270610000100" },
        { InputDeviceKind.Gamepad, PropBits, 0, "" },
        { InputDeviceKind.Gamepad, EvBits, 0x01, string.Concat(Enumerable.Repeat("00", 38)) + "DB7F" },
        { InputDeviceKind.Gamepad, EvBits, 0x03, "3F0003" },
        { InputDeviceKind.Gamepad, EvBits, 0x02, "" },
        { InputDeviceKind.Gamepad, AbsInfo, 0x00, "0080FFFF" + "FF7F0000" + "10000000" + "80000000" + "00000000" },
        { InputDeviceKind.Gamepad, AbsInfo, 0x04, "0080FFFF" + "FF7F0000" + "10000000" + "80000000" + "00000000" },
        { InputDeviceKind.Gamepad, AbsInfo, 0x02, "00000000" + "FF000000" + "00000000" + "00000000" + "00000000" },
        { InputDeviceKind.Gamepad, AbsInfo, 0x05, "00000000" + "FF000000" + "00000000" + "00000000" + "00000000" },
        { InputDeviceKind.Gamepad, AbsInfo, 0x10, "FFFFFFFF" + "01000000" + "00000000" + "00000000" + "00000000" },
        { InputDeviceKind.Gamepad, AbsInfo, 0x11, "FFFFFFFF" + "01000000" + "00000000" + "00000000" + "00000000" },
        { InputDeviceKind.Gamepad, AbsInfo, 0x06, "" },
    };

    public static TheoryData<byte, byte> Unknown => new()
    {
        { 0x00, 0x00 },
        { IdName, 0x01 },
        { IdSerial, 0xFF },
        { IdDevids, 0x02 },
        { PropBits, 0x01 },
        { EvBits, 0x15 },
        { EvBits, 0x1F },
        { EvBits, 0xFF },
        { AbsInfo, 0x3F },
        { 0x04, 0x00 },
        { 0x13, 0x00 },
        { 0x7F, 0x00 },
        { 0xFF, 0xFF },
    };

    [Theory]
    [MemberData(nameof(Golden))]
    public void Every_select_answers_with_the_expected_bytes(InputDeviceKind kind, byte select, byte subsel, string expectedHex)
    {
        using var device = CreateDevice(kind);

        (byte size, byte[] payload) = Query(device, select, subsel);

        Assert.Equal(expectedHex.Length / 2, size);
        Assert.Equal(expectedHex, Convert.ToHexString(payload.AsSpan(0, size)));
        Assert.All(payload[size..], b => Assert.Equal(0, b));
    }

    [Theory]
    [MemberData(nameof(Unknown))]
    public void Unknown_select_or_subsel_has_size_zero_and_an_empty_union(byte select, byte subsel)
    {
        foreach (InputDeviceKind kind in Enum.GetValues<InputDeviceKind>())
        {
            using var device = CreateDevice(kind);

            (byte size, byte[] payload) = Query(device, select, subsel);

            Assert.Equal(0, size);
            Assert.All(payload, b => Assert.Equal(0, b));
        }
    }

    [Fact]
    public void Tablet_range_follows_the_display_size()
    {
        using var device = new VirtioInputDevice("t", InputDeviceProfiles.Create(InputDeviceKind.Tablet, null, null, 1920, 1080), 64, null,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, null);

        Assert.Equal("00000000" + "7F070000" + "000000000000000000000000", Convert.ToHexString(Query(device, AbsInfo, 0).Payload.AsSpan(0, 20)));
        Assert.Equal("00000000" + "37040000" + "000000000000000000000000", Convert.ToHexString(Query(device, AbsInfo, 1).Payload.AsSpan(0, 20)));
    }

    [Fact]
    public void Whole_structure_reads_back_selectors_size_reserved_and_union()
    {
        using var device = CreateDevice(InputDeviceKind.Keyboard);
        device.WriteConfig(0, [EvBits, 0x11]);

        byte[] config = new byte[device.ConfigSize];
        device.ReadConfig(0, config);

        Assert.Equal(136, device.ConfigSize);
        Assert.Equal("1111010000000000" + "07" + string.Concat(Enumerable.Repeat("00", 127)), Convert.ToHexString(config));
    }

    [Fact]
    public void Writes_outside_the_selectors_are_ignored()
    {
        using var device = CreateDevice(InputDeviceKind.Keyboard);
        device.WriteConfig(0, [IdSerial]);
        device.WriteConfig(2, [0x55, 0x66, 0x77]);
        device.WriteConfig(8, Enumerable.Repeat((byte)0xAA, 128).ToArray());

        (byte size, byte[] payload) = Query(device, IdSerial, 0, writeSelectors: false);

        Assert.Equal(4, size);
        Assert.Equal(Hex("SN-1"u8), Convert.ToHexString(payload.AsSpan(0, 4)));
    }

    [Fact]
    public void Name_of_more_than_63_bytes_is_cut_to_fit_the_guest_buffer()
    {
        using var device = new VirtioInputDevice("k", InputDeviceProfiles.Create(InputDeviceKind.Keyboard, new string('n', 100), null), 64, null,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, null);

        Assert.Equal(63, Query(device, IdName, 0).Size);
    }

    [Fact]
    public void Reset_clears_the_selectors()
    {
        using var device = CreateDevice(InputDeviceKind.Keyboard);
        device.WriteConfig(0, [IdName, 0]);

        device.Reset();

        byte[] head = new byte[3];
        device.ReadConfig(0, head);
        Assert.Equal("000000", Convert.ToHexString(head));
    }

    internal static VirtioInputDevice CreateDevice(InputDeviceKind kind) =>
        new("input0", InputDeviceProfiles.Create(kind, null, "SN-1"), 64, null, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, null);

    private static (byte Size, byte[] Payload) Query(VirtioInputDevice device, byte select, byte subsel, bool writeSelectors = true)
    {
        if (writeSelectors)
        {
            device.WriteConfig(0, [select]);
            device.WriteConfig(1, [subsel]);
        }

        byte[] size = new byte[1];
        device.ReadConfig(2, size);
        byte[] payload = new byte[128];
        for (int i = 0; i < payload.Length; i++)
        {
            device.ReadConfig(8 + i, payload.AsSpan(i, 1));
        }

        return (size[0], payload);
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}
