using Microsoft.Win32.SafeHandles;
using Vmm.Core.Memory;
using Vmm.Interop;
using Vmm.Testing.Diagnostics;
using Xunit;

namespace Vmm.Core.Tests.Memory;

public sealed unsafe class SharedMemoryWindowTests
{
    private static readonly ulong s_page = HostMemory.PageSize;

    [Fact]
    public void MappedBytesAreTheFileBytesBothWays()
    {
        using var window = new SharedMemoryWindow(1, 4 * s_page);
        using SafeFileHandle file = HostMemory.CreateMemoryFile("window-test", 4 * s_page);
        byte[] pattern = Enumerable.Range(0, (int)s_page).Select(i => (byte)(i * 31)).ToArray();
        RandomAccess.Write(file, pattern, (long)s_page);

        // File page 1 appears at window page 2.
        window.MapFile(2 * s_page, file, (long)s_page, s_page, writable: true);
        var view = new Span<byte>((byte*)window.HostAddress + (2 * s_page), (int)s_page);
        Assert.Equal(pattern, view.ToArray());

        // Writes through the window reach the file, and later file writes show in the window.
        view[5] = 0xAB;
        byte[] read = new byte[1];
        RandomAccess.Read(file, read, (long)s_page + 5);
        Assert.Equal(0xAB, read[0]);
        RandomAccess.Write(file, new byte[] { 0xCD }, (long)s_page + 6);
        Assert.Equal(0xCD, view[6]);
        Assert.Equal("rw-s", ProcessMaps.PermissionsAt(window.HostAddress + (nint)(2 * s_page)));
    }

    [Fact]
    public void UnmappedRangesAreInaccessible()
    {
        using var window = new SharedMemoryWindow(0, 4 * s_page);
        using SafeFileHandle file = HostMemory.CreateMemoryFile("window-test", 2 * s_page);
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress));

        window.MapFile(s_page, file, 0, 2 * s_page, writable: false);
        Assert.Equal("r--s", ProcessMaps.PermissionsAt(window.HostAddress + (nint)s_page));
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress));
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress + (nint)(3 * s_page)));

        window.Unmap(s_page, s_page);
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress + (nint)s_page));
        Assert.Equal("r--s", ProcessMaps.PermissionsAt(window.HostAddress + (nint)(2 * s_page)));
    }

    [Fact]
    public void DisposeReleasesTheReservation()
    {
        var window = new SharedMemoryWindow(0, 2 * s_page);
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress));
        window.Dispose();
        using SafeFileHandle file = HostMemory.CreateMemoryFile("window-test", s_page);
        Assert.Throws<ObjectDisposedException>(() => window.MapFile(0, file, 0, s_page, writable: true));
    }

    [Fact]
    public void AlignmentAndBoundsAreChecked()
    {
        Assert.Throws<ArgumentException>(() => new SharedMemoryWindow(0, 0));
        Assert.Throws<ArgumentException>(() => new SharedMemoryWindow(0, s_page + 1));

        using var window = new SharedMemoryWindow(0, 4 * s_page);
        using SafeFileHandle file = HostMemory.CreateMemoryFile("window-test", 8 * s_page);
        Assert.Throws<ArgumentException>(() => window.MapFile(1, file, 0, s_page, writable: true));
        Assert.Throws<ArgumentException>(() => window.MapFile(0, file, 1, s_page, writable: true));
        Assert.Throws<ArgumentException>(() => window.MapFile(0, file, 0, s_page - 1, writable: true));
        Assert.Throws<ArgumentException>(() => window.MapFile(0, file, 0, 0, writable: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => window.MapFile(3 * s_page, file, 0, 2 * s_page, writable: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => window.MapFile(5 * s_page, file, 0, s_page, writable: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => window.Unmap(ulong.MaxValue - s_page + 1, 2 * s_page));
        Assert.Throws<ArgumentOutOfRangeException>(() => window.MapFile(0, file, -4096, s_page, writable: true));

        // Nothing was mapped by the rejected calls.
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress));
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress + (nint)(3 * s_page)));
    }
}
