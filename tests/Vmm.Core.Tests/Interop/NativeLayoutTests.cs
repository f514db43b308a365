using System.Reflection;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Queues;
using Vmm.Testing.Native;
using Xunit;

namespace Vmm.Core.Tests.Interop;

/// <summary>Every libc constant and virtio ring layout value we declare, checked against the C headers with gcc.</summary>
public sealed class NativeLayoutTests
{
    private static readonly string[] s_libcPrefixes = ["PROT_", "MAP_", "MFD_", "EFD_", "MADV_", "_SC_"];

    [Fact]
    public void LibcConstantsMatchTheHeaders()
    {
        string compiler = RequireCompiler();
        var check = new CHeaderCheck().Include("sys/mman.h").Include("sys/eventfd.h").Include("unistd.h");
        foreach (FieldInfo field in typeof(global::Interop).GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (field.IsLiteral && s_libcPrefixes.Any(p => field.Name.StartsWith(p, StringComparison.Ordinal)))
            {
                check.Equal(field.Name, Convert.ToUInt64(field.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture), field.Name);
            }
        }

        // The set we rely on; a renamed or dropped constant should not silently shrink the check.
        Assert.True(check.Count >= 18, $"Only {check.Count} libc constants found.");
        AssertNoMismatches(check, compiler);
    }

    [Fact]
    public void VirtioRingLayoutMatchesTheHeader()
    {
        string compiler = RequireCompiler();
        var check = new CHeaderCheck().Include("stddef.h").Include("linux/virtio_ring.h")
            .Equal("sizeof(struct vring_desc)", VringLayout.DescriptorSize, "sizeof(vring_desc)")
            .Equal("offsetof(struct vring_desc, addr)", VringLayout.DescriptorAddressOffset, "vring_desc.addr")
            .Equal("offsetof(struct vring_desc, len)", VringLayout.DescriptorLengthOffset, "vring_desc.len")
            .Equal("offsetof(struct vring_desc, flags)", VringLayout.DescriptorFlagsOffset, "vring_desc.flags")
            .Equal("offsetof(struct vring_desc, next)", VringLayout.DescriptorNextOffset, "vring_desc.next")
            .Equal("VRING_DESC_F_NEXT", VringLayout.DescriptorFlagNext, "VRING_DESC_F_NEXT")
            .Equal("VRING_DESC_F_WRITE", VringLayout.DescriptorFlagWrite, "VRING_DESC_F_WRITE")
            .Equal("VRING_DESC_F_INDIRECT", VringLayout.DescriptorFlagIndirect, "VRING_DESC_F_INDIRECT")
            .Equal("VRING_USED_F_NO_NOTIFY", VringLayout.UsedFlagNoNotify, "VRING_USED_F_NO_NOTIFY")
            .Equal("VRING_AVAIL_F_NO_INTERRUPT", VringLayout.AvailableFlagNoInterrupt, "VRING_AVAIL_F_NO_INTERRUPT")
            .Equal("offsetof(struct vring_avail, flags)", VringLayout.RingFlagsOffset, "vring_avail.flags")
            .Equal("offsetof(struct vring_avail, idx)", VringLayout.RingIndexOffset, "vring_avail.idx")
            .Equal("offsetof(struct vring_avail, ring)", VringLayout.RingEntriesOffset, "vring_avail.ring")
            .Equal("sizeof(((struct vring_avail *)0)->ring[0])", VringLayout.AvailableElementSize, "sizeof(vring_avail.ring[0])")
            .Equal("offsetof(struct vring_used, flags)", VringLayout.RingFlagsOffset, "vring_used.flags")
            .Equal("offsetof(struct vring_used, idx)", VringLayout.RingIndexOffset, "vring_used.idx")
            .Equal("offsetof(struct vring_used, ring)", VringLayout.RingEntriesOffset, "vring_used.ring")
            .Equal("sizeof(struct vring_used_elem)", VringLayout.UsedElementSize, "sizeof(vring_used_elem)")
            .Equal("offsetof(struct vring_used_elem, len)", VringLayout.UsedElementLengthOffset, "vring_used_elem.len")
            .Equal("1ULL << VIRTIO_RING_F_INDIRECT_DESC", VirtioFeatures.RingIndirectDescriptors, "VIRTIO_RING_F_INDIRECT_DESC")
            .Equal("1ULL << VIRTIO_RING_F_EVENT_IDX", VirtioFeatures.RingEventIndex, "VIRTIO_RING_F_EVENT_IDX");
        foreach (int size in new[] { 1, 8, 256, 32768 })
        {
            check.Equal($"offsetof(struct vring_used, ring[{size}]) + sizeof(__virtio16)", (ulong)VringLayout.UsedRingBytes(size), $"used ring bytes for {size}")
                .Equal($"offsetof(struct vring_avail, ring[{size}]) + sizeof(__virtio16)", (ulong)VringLayout.AvailableRingBytes(size), $"available ring bytes for {size}")
                .Equal($"offsetof(struct vring_used, ring[{size}])", (ulong)VringLayout.AvailableEventOffset(size), $"avail_event offset for {size}")
                .Equal($"offsetof(struct vring_avail, ring[{size}])", (ulong)VringLayout.UsedEventOffset(size), $"used_event offset for {size}");
        }

        AssertNoMismatches(check, compiler);
    }

    [Fact]
    public void ProcessListingLayoutMatchesTheHeaders()
    {
        // statx and linux_dirent64 have one layout on every architecture; we read them by offset.
        string compiler = RequireCompiler();
        var check = new CHeaderCheck().Include("fcntl.h").Include("unistd.h").Include("stddef.h").Include("linux/stat.h")
            .Declare("struct linux_dirent64 { unsigned long long d_ino; long long d_off; unsigned short d_reclen; unsigned char d_type; char d_name[]; };")
            .Equal("O_RDONLY", (ulong)global::Interop.O_RDONLY, "O_RDONLY")
            .Equal("O_DIRECTORY", (ulong)global::Interop.O_DIRECTORY, "O_DIRECTORY")
            .Equal("O_CLOEXEC", (ulong)global::Interop.O_CLOEXEC, "O_CLOEXEC")
            .Equal("SEEK_SET", (ulong)global::Interop.SEEK_SET, "SEEK_SET")
            .Equal("AT_EMPTY_PATH", (ulong)global::Interop.AT_EMPTY_PATH, "AT_EMPTY_PATH")
            .Equal("STATX_INO", global::Interop.STATX_INO, "STATX_INO")
            .Equal("STATX_NLINK", global::Interop.STATX_NLINK, "STATX_NLINK")
            .Equal("STATX_SIZE", global::Interop.STATX_SIZE, "STATX_SIZE")
            .Equal("offsetof(struct statx, stx_nlink)", (ulong)global::Interop.StatxNlinkOffset, "statx.stx_nlink")
            .Equal("offsetof(struct statx, stx_size)", (ulong)global::Interop.StatxSizeOffset, "statx.stx_size")
            .Equal("sizeof(struct statx)", (ulong)global::Interop.StatxSize, "sizeof(statx)")
            .Equal("offsetof(struct statx, stx_ino)", (ulong)global::Interop.StatxInoOffset, "statx.stx_ino")
            .Equal("offsetof(struct statx, stx_dev_major)", (ulong)global::Interop.StatxDevMajorOffset, "statx.stx_dev_major")
            .Equal("offsetof(struct statx, stx_dev_minor)", (ulong)global::Interop.StatxDevMinorOffset, "statx.stx_dev_minor")
            .Equal("offsetof(struct linux_dirent64, d_reclen)", (ulong)global::Interop.Dirent64RecordLengthOffset, "linux_dirent64.d_reclen")
            .Equal("offsetof(struct linux_dirent64, d_name)", (ulong)global::Interop.Dirent64NameOffset, "linux_dirent64.d_name");
        AssertNoMismatches(check, compiler);
    }

    [Fact]
    public void MismatchesAreListed()
    {
        // The checker itself must be able to fail: two wrong values and an unknown name are all reported.
        string compiler = RequireCompiler();
        var check = new CHeaderCheck().Include("sys/mman.h").Include("linux/virtio_ring.h")
            .Equal("PROT_WRITE", 4, "PROT_WRITE")
            .Equal("sizeof(struct vring_desc)", 12, "sizeof(vring_desc)")
            .Equal("PROT_READ", 1, "PROT_READ")
            .Equal("NO_SUCH_CONSTANT", 1, "NO_SUCH_CONSTANT");

        IReadOnlyList<string> failures = check.Run(compiler);
        Assert.Contains(failures, f => f.Contains("MISMATCH PROT_WRITE", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("MISMATCH sizeof(vring_desc)", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("NO_SUCH_CONSTANT", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("MISMATCH PROT_READ", StringComparison.Ordinal));
    }

    private static string RequireCompiler()
    {
        string? compiler = CHeaderCheck.FindCompiler();
        if (compiler is null)
        {
            Assert.Skip("gcc is not on PATH, so the C header check cannot run (install gcc and the libc/linux headers).");
        }

        return compiler;
    }

    private static void AssertNoMismatches(CHeaderCheck check, string compiler)
    {
        IReadOnlyList<string> failures = check.Run(compiler);
        Assert.True(failures.Count == 0, "C and C# disagree:\n" + string.Join('\n', failures) + "\n--- generated C ---\n" + check.Source);
    }
}
