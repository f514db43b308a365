using System.Buffers.Binary;
using System.Text;
using Vmm.Contracts.Input;

namespace Vmm.Plugins.VirtioInput.Config;

/// <summary>
/// What a virtio-input device tells the guest about itself: name, serial, ids, property bits, the codes of each
/// event type and the axes' ranges. Answers one (select, subsel) query of the config union at a time.
/// </summary>
internal sealed class InputDeviceProfile
{
    /// <summary>The size of the config union (<c>virtio_input_config.u</c>).</summary>
    public const int PayloadSize = 128;

    /// <summary>
    /// Names and serials are copied by Linux 6.1 with <c>min(size, 64)</c> into 64-byte buffers: a 64-byte string
    /// would be left without its terminating NUL.
    /// </summary>
    public const int MaxStringBytes = 63;

    private readonly byte[] _name;
    private readonly byte[] _serial;
    private readonly byte[] _propertyBits;
    private readonly Dictionary<ushort, byte[]> _eventBits;
    private readonly Dictionary<ushort, AbsoluteAxisInfo> _axes;

    public InputDeviceProfile(
        InputDeviceKind kind,
        string name,
        string? serial,
        InputDeviceIds ids,
        byte[] propertyBits,
        Dictionary<ushort, byte[]> eventBits,
        Dictionary<ushort, AbsoluteAxisInfo> axes)
    {
        Kind = kind;
        Name = name;
        Serial = serial;
        Ids = ids;
        _name = Truncate(name);
        _serial = serial is null ? [] : Truncate(serial);
        _propertyBits = propertyBits;
        _eventBits = eventBits;
        _axes = axes;
    }

    public InputDeviceKind Kind { get; }

    public string Name { get; }

    public string? Serial { get; }

    public InputDeviceIds Ids { get; }

    /// <summary>The event types (EV_*) the device offers a code bitmap for.</summary>
    public IEnumerable<ushort> EventTypes => _eventBits.Keys.Order();

    /// <summary>The axes (ABS_*) the device describes.</summary>
    public IReadOnlyDictionary<ushort, AbsoluteAxisInfo> Axes => _axes;

    /// <summary>
    /// Fills <paramref name="payload"/> (the 128-byte union, cleared by the caller) with the answer to
    /// (<paramref name="select"/>, <paramref name="subsel"/>) and returns <c>size</c>: 0 for anything unknown.
    /// </summary>
    public byte Fill(byte select, byte subsel, Span<byte> payload)
    {
        switch (select)
        {
            case VirtioInputConfigSelect.IdName when subsel == 0:
                return Copy(_name, payload);
            case VirtioInputConfigSelect.IdSerial when subsel == 0:
                return Copy(_serial, payload);
            case VirtioInputConfigSelect.IdDeviceIds when subsel == 0:
                BinaryPrimitives.WriteUInt16LittleEndian(payload, Ids.BusType);
                BinaryPrimitives.WriteUInt16LittleEndian(payload[2..], Ids.Vendor);
                BinaryPrimitives.WriteUInt16LittleEndian(payload[4..], Ids.Product);
                BinaryPrimitives.WriteUInt16LittleEndian(payload[6..], Ids.Version);
                return InputDeviceIds.Size;
            case VirtioInputConfigSelect.PropertyBits when subsel == 0:
                return Copy(_propertyBits, payload);
            case VirtioInputConfigSelect.EventBits:
                return _eventBits.TryGetValue(subsel, out byte[]? bits) ? Copy(bits, payload) : (byte)0;
            case VirtioInputConfigSelect.AbsoluteInfo:
                if (!_axes.TryGetValue(subsel, out AbsoluteAxisInfo axis))
                {
                    return 0;
                }

                BinaryPrimitives.WriteInt32LittleEndian(payload, axis.Minimum);
                BinaryPrimitives.WriteInt32LittleEndian(payload[4..], axis.Maximum);
                BinaryPrimitives.WriteInt32LittleEndian(payload[8..], axis.Fuzz);
                BinaryPrimitives.WriteInt32LittleEndian(payload[12..], axis.Flat);
                BinaryPrimitives.WriteInt32LittleEndian(payload[16..], axis.Resolution);
                return AbsoluteAxisInfo.Size;
            default:
                return 0;
        }
    }

    /// <summary>A bitmap with the bits of <paramref name="codes"/> set, as long as its highest set bit needs.</summary>
    public static byte[] Bitmap(IEnumerable<int> codes)
    {
        int[] list = codes.ToArray();
        if (list.Length == 0)
        {
            return [];
        }

        byte[] bitmap = new byte[(list.Max() / 8) + 1];
        foreach (int code in list)
        {
            if (code is < 0 or >= PayloadSize * 8)
            {
                throw new ArgumentOutOfRangeException(nameof(codes), code, "A code does not fit the 128-byte bitmap.");
            }

            bitmap[code / 8] |= (byte)(1 << (code % 8));
        }

        return bitmap;
    }

    private static byte Copy(byte[] source, Span<byte> payload)
    {
        int length = Math.Min(source.Length, PayloadSize);
        source.AsSpan(0, length).CopyTo(payload);
        return (byte)length;
    }

    private static byte[] Truncate(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        return bytes.Length <= MaxStringBytes ? bytes : bytes[..MaxStringBytes];
    }
}
