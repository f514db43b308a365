using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioGpu.Testing;

/// <summary>
/// Raw virtio-gpu control commands as a driver lays them out, for front-ends in tests and benchmarks that speak to a
/// GPU back-end (ours or QEMU's) without the full command set of the device's own tests.
/// </summary>
public static class GpuCommandBytes
{
    /// <summary>
    /// A <paramref name="size"/>-byte command of <paramref name="type"/> (the 24-byte control header with no flags and
    /// no fence) with each 32-bit field written little-endian at its offset.
    /// </summary>
    public static byte[] Command(uint type, int size, params (int Offset, uint Value)[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        byte[] bytes = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, type);
        foreach ((int offset, uint value) in fields)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), value);
        }

        return bytes;
    }
}
