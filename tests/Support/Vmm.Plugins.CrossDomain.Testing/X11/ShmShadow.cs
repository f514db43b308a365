using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.CrossDomain.Testing.Native;

namespace Vmm.Plugins.CrossDomain.Testing.X11;

/// <summary>
/// One MIT-SHM segment as the bridge translates it: the client's memory (its memfd or SysV segment, which the host
/// cannot reach) paired with a host blob the X server attached instead. The bridge copies the client's bytes into
/// the blob before each ShmPutImage and the blob's back after each ShmGetImage reply, as sommelier copies wl_shm
/// pools into host buffers.
/// </summary>
internal sealed class ShmShadow : IDisposable
{
    private readonly bool _sysV;

    public ShmShadow(nint clientAddress, long clientLength, bool sysV, HostBlob blob)
    {
        ClientAddress = clientAddress;
        ClientLength = clientLength;
        _sysV = sysV;
        Blob = blob;
    }

    public nint ClientAddress { get; }

    public long ClientLength { get; }

    public HostBlob Blob { get; }

    /// <summary>Maps a client's fd (ShmAttachFd, or a memfd the bridge made for ShmCreateSegment).</summary>
    public static (nint Address, long Length) MapClientFile(SafeFileHandle file)
    {
        long length = GuestFd.Size(file);
        if (length <= 0)
        {
            throw new IOException("the client's MIT-SHM fd is not a sized file");
        }

        return (GuestFd.Map(file, length, writable: !GuestFd.IsReadOnly(file)), length);
    }

    /// <summary>Copies [<paramref name="offset"/>, +<paramref name="length"/>) from the client's memory to the host blob.</summary>
    public unsafe void ToHost(long offset, long length) => Copy((byte*)ClientAddress, (byte*)Blob.Address, offset, length);

    /// <summary>Copies [<paramref name="offset"/>, +<paramref name="length"/>) from the host blob to the client's memory.</summary>
    public unsafe void ToClient(long offset, long length) => Copy((byte*)Blob.Address, (byte*)ClientAddress, offset, length);

    public void Dispose()
    {
        if (_sysV)
        {
            GuestFd.DetachSysV(ClientAddress);
        }
        else
        {
            GuestFd.Unmap(ClientAddress, ClientLength);
        }

        Blob.Dispose();
    }

    private unsafe void Copy(byte* from, byte* to, long offset, long length)
    {
        long limit = Math.Min(ClientLength, (long)Blob.Size);
        if (offset < 0 || offset >= limit || length <= 0)
        {
            return;
        }

        length = Math.Min(length, limit - offset);
        Buffer.MemoryCopy(from + offset, to + offset, length, length);
    }
}
