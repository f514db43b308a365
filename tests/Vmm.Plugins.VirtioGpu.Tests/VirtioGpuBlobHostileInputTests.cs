using System.Buffers.Binary;
using Vmm.Contracts.Virtio;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>Malformed blob commands get the matching error and change nothing; the device keeps working.</summary>
public sealed class VirtioGpuBlobHostileInputTests : IDisposable
{
    private const ulong Memory = 32UL << 20;
    private const uint Guest = 1;
    private const uint Shareable = 2;

    private readonly GpuGuest _guest = new(new VirtioGpuOptions { MaxResourceBytes = 4 << 20 }, Memory);
    private readonly GuestBuffer _pages;

    public VirtioGpuBlobHostileInputTests() => _pages = _guest.Machine.AllocateBuffer(64 << 10);

    public void Dispose() => _guest.Dispose();

    [Fact]
    public void Reused_or_zero_ids_are_invalid_resource_id()
    {
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(CreateBlob(0, Guest, Shareable, 4096, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(1, Guest, Shareable, 4096, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(CreateBlob(1, Guest, Shareable, 4096, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Create2D(2, 2, 8, 8)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(CreateBlob(2, Guest, Shareable, 4096, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(Create2D(1, 2, 8, 8)));
    }

    [Fact]
    public void Empty_huge_and_over_the_limit_sizes_are_refused()
    {
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, Guest, Shareable, 0, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.ErrOutOfMemory, _guest.SendType(CreateBlob(1, Guest, Shareable, ulong.MaxValue, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.ErrOutOfMemory, _guest.SendType(CreateBlob(1, Guest, Shareable, (4 << 20) + 1, entries: [(0, 4 << 20), (4 << 20, 1)])));

        // The limit counts blobs: 4 MiB in all.
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(1, Guest, Shareable, 3 << 20, entries: (0, 3 << 20))));
        Assert.Equal(GpuGuest.ErrOutOfMemory, _guest.SendType(CreateBlob(2, Guest, Shareable, 2 << 20, entries: (0, 2 << 20))));
        Assert.Equal(GpuGuest.ErrOutOfMemory, _guest.SendType(Create2D(2, 2, 1024, 512)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Unref(1)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(2, Guest, Shareable, 2 << 20, entries: (0, 2 << 20))));
    }

    [Fact]
    public void Memory_entries_outside_guest_memory_wrapping_short_or_missing_are_refused()
    {
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(CreateBlob(1, Guest, Shareable, 4096, entries: (Memory, 4096))));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(CreateBlob(1, Guest, Shareable, 4096, entries: (Memory - 16, 4096))));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(CreateBlob(1, Guest, Shareable, 4096, entries: (ulong.MaxValue - 15, 4096))));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(CreateBlob(1, Guest, Shareable, 8192, entries: [(_pages.Address, 4096), (ulong.MaxValue, uint.MaxValue)])));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(CreateBlob(1, Guest, Shareable, 4096)));

        // Fewer bytes of guest memory than the blob claims.
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, Guest, Shareable, 8192, entries: [(_pages.Address, 4096), (_pages.Address + 8192, 4095)])));

        // More entries claimed than the request carries, or beyond the bound.
        byte[] lying = CreateBlob(1, Guest, Shareable, 4096, entries: (_pages.Address, 4096));
        BinaryPrimitives.WriteUInt32LittleEndian(lying.AsSpan(36), 2);
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(lying));
        BinaryPrimitives.WriteUInt32LittleEndian(lying.AsSpan(36), uint.MaxValue);
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(lying));

        // None of that created resource 1; entries split across descriptors are fine.
        byte[] good = CreateBlob(1, Guest, Shareable, 8192, entries: [(_pages.Address, 4096), (_pages.Address + 8192, 4096)]);
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(good.AsSpan(0, 60), good[60..80], good[80..]));
    }

    [Fact]
    public void Unknown_memory_types_flags_and_host_blobs_without_contexts_are_invalid_parameter()
    {
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, 0, Shareable, 4096, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, 4, Shareable, 4096, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, Guest, 8, 4096, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, 2, 1, 4096, blobId: 1)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, 3, 1, 4096, blobId: 1, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(1, Guest, 7, 4096, entries: (_pages.Address, 4096))));
    }

    [Fact]
    public void Short_blob_commands_are_unspecified_errors()
    {
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(CreateBlob(1, Guest, Shareable, 4096).AsSpan(0, 48)));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(SetScanoutBlob(0, 1, (0, 0, 8, 8), 8, 8, 2, 32, 0).AsSpan(0, 80)));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(MapBlob(1, 0).AsSpan(0, 32)));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(UnmapBlob(1).AsSpan(0, 28)));
    }

    [Fact]
    public void Scanout_blob_geometry_beyond_the_blob_or_unknown_formats_are_invalid_parameter()
    {
        // A 16x16 XRGB framebuffer fits exactly: 1024 bytes.
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(1, Guest, Shareable, 1024, entries: (_pages.Address, 1024))));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanoutBlob(0, 1, (0, 0, 16, 16), 16, 16, 2, 64, 4)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanoutBlob(0, 1, (0, 0, 16, 16), 16, 16, 2, 68, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanoutBlob(0, 1, (0, 0, 16, 16), 16, 16, 2, 60, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanoutBlob(0, 1, (0, 0, 16, 2), 16, uint.MaxValue, 2, uint.MaxValue, uint.MaxValue)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanoutBlob(0, 1, (0, 0, 16, 16), uint.MaxValue, 16, 2, 64, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanoutBlob(0, 1, (0, 0, 16, 16), 16, 16, 5, 64, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanoutBlob(0, 1, (8, 8, 16, 16), 16, 16, 2, 64, 0)));

        // One row fits any stride; a stride beyond int.MaxValue would still be a negative display stride.
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanoutBlob(0, 1, (0, 0, 16, 1), 16, 1, 2, 0x8000_0000, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanoutBlob(0, 1, (uint.MaxValue, 0, 2, 16), 16, 16, 2, 64, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanoutBlob(0, 1, (0, 0, 0, 16), 16, 16, 2, 64, 0)));
        Assert.Equal(GpuGuest.ErrInvalidScanoutId, _guest.SendType(SetScanoutBlob(16, 1, (0, 0, 16, 16), 16, 16, 2, 64, 0)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(SetScanoutBlob(0, 9, (0, 0, 16, 16), 16, 16, 2, 64, 0)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Create2D(2, 2, 16, 16)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(SetScanoutBlob(0, 2, (0, 0, 16, 16), 16, 16, 2, 64, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanout(0, 1, 0, 0, 16, 16)));

        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(SetScanoutBlob(0, 1, (0, 0, 16, 16), 16, 16, 2, 64, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(Flush(1, 8, 8, 9, 1)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(SetScanoutBlob(0, 0, default, 0, 0, 0, 0, 0)));
    }

    [Fact]
    public void Blobs_take_no_attach_or_detach_backing()
    {
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(1, Guest, Shareable, 4096, entries: (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(AttachBacking(1, (_pages.Address, 4096))));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(DetachBacking(1)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Transfer(1, 0, 0, 1, 1, 0)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Unref(1)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(Unref(1)));
    }
}
