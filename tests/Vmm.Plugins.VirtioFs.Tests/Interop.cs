using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>The libc calls the tests need to know who they run as and who owns a host file.</summary>
internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "getuid")]
    internal static partial uint Getuid();

    /// <summary>st_uid of a path (x86-64 struct stat: st_uid at byte 28), final symlink not followed.</summary>
    internal static unsafe uint OwnerOf(string path)
    {
        byte* stat = stackalloc byte[256];
        if (LStat(path, stat) != 0)
        {
            throw new IOException($"lstat({path}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(stat + 28, 4));
    }

    /// <summary>st_gid of a path (x86-64 struct stat: st_gid at byte 32), final symlink not followed.</summary>
    internal static unsafe uint GroupOf(string path)
    {
        byte* stat = stackalloc byte[256];
        if (LStat(path, stat) != 0)
        {
            throw new IOException($"lstat({path}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(stat + 32, 4));
    }

    /// <summary>st_mode of a path (x86-64 struct stat: st_mode at byte 24), final symlink not followed.</summary>
    internal static unsafe uint ModeOf(string path)
    {
        byte* stat = stackalloc byte[256];
        if (LStat(path, stat) != 0)
        {
            throw new IOException($"lstat({path}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(stat + 24, 4));
    }

    /// <summary>st_rdev of a path (x86-64 struct stat: st_rdev at byte 40, glibc's 64-bit dev_t).</summary>
    internal static unsafe ulong DeviceOf(string path)
    {
        byte* stat = stackalloc byte[256];
        if (LStat(path, stat) != 0)
        {
            throw new IOException($"lstat({path}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(stat + 40, 8));
    }

    /// <summary>chown(2), throwing on failure.</summary>
    internal static void ChangeOwner(string path, uint uid, uint gid)
    {
        if (Chown(path, uid, gid) != 0)
        {
            throw new IOException($"chown({path}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Chown(string path, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int LStat(string path, byte* stat);
}
