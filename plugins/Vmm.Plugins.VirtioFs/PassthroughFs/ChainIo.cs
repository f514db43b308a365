using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>
/// File I/O straight between a host file and a chain's guest buffers (READ and WRITE payloads): one preadv/pwritev
/// over all the descriptors, no copy. Guest memory is mapped and stays put while the VM runs (the
/// <see cref="Vmm.Contracts.Memory.IGuestMemory"/> contract), so its addresses can go into an iovec. A buffer that
/// straddles two memory regions falls back to a bounce buffer, one descriptor at a time.
/// </summary>
internal sealed unsafe class ChainIo
{
    private readonly HostIoSegment[] _segments = new HostIoSegment[HostIoSegment.MaxCount];
    private readonly byte[] _bounce = new byte[64 * 1024];

    /// <summary>Reads up to <paramref name="size"/> bytes at <paramref name="fileOffset"/> into the writable part from <paramref name="chainOffset"/>; stops at end of file.</summary>
    public int ReadFile(SafeFileHandle file, long fileOffset, int size, DescriptorChain chain, long chainOffset)
        => TryGather(chain.Writable, chain, chainOffset, size, out int count)
            ? (int)HostFileSystem.ReadAt(file, _segments.AsSpan(0, count), fileOffset)
            : Bounce(file, fileOffset, size, chain, chainOffset, intoGuest: true);

    /// <summary>Writes <paramref name="size"/> bytes from the readable part at <paramref name="chainOffset"/> to <paramref name="fileOffset"/>.</summary>
    public int WriteFile(SafeFileHandle file, long fileOffset, int size, DescriptorChain chain, long chainOffset)
        => TryGather(chain.Readable, chain, chainOffset, size, out int count)
            ? (int)HostFileSystem.WriteAt(file, _segments.AsSpan(0, count), fileOffset)
            : Bounce(file, fileOffset, size, chain, chainOffset, intoGuest: false);

    /// <summary>
    /// The slow path: one descriptor at a time through the bounce buffer, in either direction; stops at a short
    /// read or write.
    /// </summary>
    private int Bounce(SafeFileHandle file, long fileOffset, int size, DescriptorChain chain, long chainOffset, bool intoGuest)
    {
        int done = 0;
        foreach (GuestBuffer buffer in intoGuest ? chain.Writable : chain.Readable)
        {
            if (done == size)
            {
                break;
            }

            if (chainOffset >= buffer.Length)
            {
                chainOffset -= buffer.Length;
                continue;
            }

            int wanted = (int)Math.Min(Math.Min(buffer.Length - chainOffset, size - done), _bounce.Length);
            ulong address = buffer.Address + (ulong)chainOffset;
            chainOffset = 0;
            Span<byte> bounce = _bounce.AsSpan(0, wanted);
            int moved;
            if (intoGuest)
            {
                moved = HostFileSystem.ReadAt(file, bounce, fileOffset + done);
                chain.Memory.Write(address, bounce[..moved]);
            }
            else
            {
                chain.Memory.Read(address, bounce);
                moved = HostFileSystem.WriteAt(file, bounce, fileOffset + done);
            }

            done += moved;
            if (moved < wanted || wanted < buffer.Length)
            {
                break;
            }
        }

        return done;
    }

    /// <summary>Describes <paramref name="size"/> bytes of <paramref name="buffers"/> from <paramref name="offset"/> as iovecs; false when one cannot be (straddles regions, too many).</summary>
    private bool TryGather(ReadOnlySpan<GuestBuffer> buffers, DescriptorChain chain, long offset, int size, out int count)
    {
        count = 0;
        int described = 0;
        foreach (GuestBuffer buffer in buffers)
        {
            if (described == size)
            {
                break;
            }

            if (offset >= buffer.Length)
            {
                offset -= buffer.Length;
                continue;
            }

            int length = (int)Math.Min(buffer.Length - offset, size - described);
            if (count == _segments.Length || !chain.Memory.TryGetSpan(buffer.Address + (ulong)offset, length, out Span<byte> guest))
            {
                return false;
            }

            _segments[count++] = new HostIoSegment((nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(guest)), (nuint)length);
            described += length;
            offset = 0;
        }

        return true;
    }
}
