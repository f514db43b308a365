using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Responses;

/// <summary>
/// A response body being built in the device's response buffer (after the header): handlers that answer with data
/// write it here and say how long it is.
/// </summary>
internal ref struct GpuResponse
{
    private readonly Span<byte> _body;

    public GpuResponse(Span<byte> body)
    {
        _body = body;
    }

    /// <summary>The body's length once a handler wrote one; 0 for OK_NODATA and errors.</summary>
    public int BodyLength { get; private set; }

    /// <summary>A zeroed <typeparamref name="T"/> in the buffer, to fill in place (large bodies such as EDID).</summary>
    public ref T Body<T>()
        where T : unmanaged
    {
        Span<byte> body = _body[..Unsafe.SizeOf<T>()];
        body.Clear();
        BodyLength = body.Length;
        return ref MemoryMarshal.AsRef<T>(body);
    }

    /// <summary>Writes a fixed body.</summary>
    public void Write<T>(in T value)
        where T : unmanaged
        => Body<T>() = value;

    /// <summary>A zeroed body of <paramref name="length"/> bytes (a capset, whose size its type decides).</summary>
    public Span<byte> Bytes(int length)
    {
        Span<byte> body = _body[..length];
        body.Clear();
        BodyLength = length;
        return body;
    }
}
