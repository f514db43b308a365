using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;
using Vmm.Interop;

namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// File I/O straight between a host file and a chain's guest buffers (READ and WRITE payloads), one pread/pwrite
/// per descriptor, with a bounce buffer only for a buffer that straddles two memory regions.
/// </summary>
internal static class ChainIo
{
    /// <summary>Reads up to <paramref name="size"/> bytes at <paramref name="fileOffset"/> into the writable part from <paramref name="chainOffset"/>; stops at end of file.</summary>
    public static int ReadFile(SafeFileHandle file, long fileOffset, int size, DescriptorChain chain, long chainOffset, byte[] bounce)
    {
        int done = 0;
        foreach (GuestBuffer buffer in chain.Writable)
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

            int wanted = (int)Math.Min(buffer.Length - chainOffset, size - done);
            ulong address = buffer.Address + (ulong)chainOffset;
            chainOffset = 0;
            int got;
            if (chain.Memory.TryGetSpan(address, wanted, out Span<byte> guest))
            {
                got = HostFileSystem.ReadAt(file, guest, fileOffset + done);
            }
            else
            {
                got = HostFileSystem.ReadAt(file, bounce.AsSpan(0, Math.Min(wanted, bounce.Length)), fileOffset + done);
                chain.Memory.Write(address, bounce.AsSpan(0, got));
            }

            done += got;
            if (got < wanted)
            {
                break;
            }
        }

        return done;
    }

    /// <summary>Writes <paramref name="size"/> bytes from the readable part at <paramref name="chainOffset"/> to <paramref name="fileOffset"/>.</summary>
    public static int WriteFile(SafeFileHandle file, long fileOffset, int size, DescriptorChain chain, long chainOffset, byte[] bounce)
    {
        int done = 0;
        foreach (GuestBuffer buffer in chain.Readable)
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

            int wanted = (int)Math.Min(buffer.Length - chainOffset, size - done);
            ulong address = buffer.Address + (ulong)chainOffset;
            chainOffset = 0;
            int put;
            if (chain.Memory.TryGetSpan(address, wanted, out Span<byte> guest))
            {
                put = HostFileSystem.WriteAt(file, guest, fileOffset + done);
            }
            else
            {
                int chunk = Math.Min(wanted, bounce.Length);
                chain.Memory.Read(address, bounce.AsSpan(0, chunk));
                put = HostFileSystem.WriteAt(file, bounce.AsSpan(0, chunk), fileOffset + done);
            }

            done += put;
            if (put < wanted)
            {
                break;
            }
        }

        return done;
    }
}
