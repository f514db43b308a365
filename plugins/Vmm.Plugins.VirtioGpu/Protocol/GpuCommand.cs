using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>
/// A decoded command: its header and its fixed part, already checked to be as long as the command's layout in
/// <c>Commands/</c>. Only <see cref="GpuCommandDecoder"/> makes one.
/// </summary>
internal readonly ref struct GpuCommand
{
    private readonly ReadOnlySpan<byte> _body;

    internal GpuCommand(GpuControlHeader header, ReadOnlySpan<byte> body, int length)
    {
        Header = header;
        _body = body;
        Length = length;
    }

    public GpuControlHeader Header { get; }

    /// <summary>The request bytes the device read (fixed part and whatever followed, up to its request buffer).</summary>
    public int Length { get; }

    /// <summary>The command's fields; <typeparamref name="T"/> is the layout <see cref="GpuCommandDecoder"/> checked for this type.</summary>
    public T Read<T>()
        where T : unmanaged
    {
        Debug.Assert(GpuCommandDecoder.BodySize(Header.Type) == Unsafe.SizeOf<T>(), $"{typeof(T).Name} is not the layout of command 0x{Header.Type:x4}");
        return MemoryMarshal.Read<T>(_body);
    }
}
