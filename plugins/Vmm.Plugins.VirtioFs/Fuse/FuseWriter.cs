namespace Vmm.Plugins.VirtioFs.Fuse;

/// <summary>Converts device numbers between the kernel's encoding on the wire and glibc's.</summary>
internal static class FuseWriter
{
    /// <summary>
    /// The kernel's 32-bit new_encode_dev format from glibc's 64-bit dev_t
    /// (major = bits 8-19 and 32-63, minor = bits 0-7 and 12-31).
    /// </summary>
    public static uint EncodeDevice(ulong device)
    {
        uint major = (uint)(((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFFUL));
        uint minor = (uint)((device & 0xFF) | ((device >> 12) & ~0xFFUL));
        return (minor & 0xFF) | (major << 8) | ((minor & ~0xFFu) << 12);
    }

    /// <summary>
    /// glibc's 64-bit dev_t from the kernel's 32-bit new_encode_dev format a guest sends in mknod_in.rdev
    /// (the inverse of <see cref="EncodeDevice"/>).
    /// </summary>
    public static ulong DecodeDevice(uint device)
    {
        ulong major = (device & 0xFFF00) >> 8;
        ulong minor = (device & 0xFF) | ((device >> 12) & 0xFFF00);
        return ((major & 0xFFFFF000) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFFFF00) << 12) | (minor & 0xFF);
    }
}
