using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Testing.Diagnostics;
using Vmm.Testing.Virtio;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>
/// Host blobs from a context, mapped into the host-visible window (region 1) by MAP_BLOB: the window shows the
/// memfd's pages, stores reach the memfd, UNMAP (and unref) make the range inaccessible again.
/// </summary>
public sealed class VirtioGpuBlobMapTests : IDisposable
{
    private const ulong Window = 4UL << 20;
    private const uint Host3D = 2;
    private const uint Mappable = 1;
    private const uint OkMapInfo = 0x1106;
    private const int Page = 4096;

    private readonly BlobContextType _type = new();
    private readonly ServiceProvider _services;
    private readonly GpuGuest _guest;

    public VirtioGpuBlobMapTests()
    {
        _services = new ServiceCollection().AddSingleton<Vmm.Contracts.Gpu.IGpuContextType>(_type).BuildServiceProvider();
        _guest = new GpuGuest(new VirtioGpuOptions { HostVisibleWindowSize = Window }, services: _services);
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateContext(2, capset: 5)));
    }

    public void Dispose()
    {
        _guest.Dispose();
        _services.Dispose();
        foreach (MemfdBlob blob in _type.Blobs.Values)
        {
            blob.Dispose();
        }
    }

    private SharedMemoryWindow HostVisible => (SharedMemoryWindow)_guest.Transport.SharedMemory[0];

    [Fact]
    public void The_window_is_region_1_and_a_mapped_blob_is_the_memfd_until_unmapped()
    {
        Assert.True(_guest.Driver.TryFindSharedMemory(1, out _, out ulong length));
        Assert.Equal(Window, length);
        Assert.True(_guest.Device.HasHostVisibleWindow);

        MemfdBlob blob = AddBlob(42, 3 * Page, seed: 11);
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(10, Host3D, Mappable, 3 * Page, blobId: 42, contextId: 2)));
        byte[] reply = _guest.Send(MapBlob(10, 0x10000), 32);
        Assert.Equal(32, reply.Length);
        Assert.Equal((OkMapInfo, 1u), (U32(reply, 0), U32(reply, 24)));

        nint at = HostVisible.HostAddress + 0x10000;
        byte[] seen = new byte[3 * Page];
        Marshal.Copy(at, seen, 0, seen.Length);
        Assert.Equal(blob.Bytes.ToArray(), seen);
        Assert.Equal("rw-s", ProcessMaps.PermissionsAt(at));
        Assert.Equal("---p", ProcessMaps.PermissionsAt(HostVisible.HostAddress));

        // A store through the window lands in the memfd.
        Marshal.WriteByte(at, 5, 0xA5);
        Assert.Equal(0xA5, blob.Bytes[5]);

        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(UnmapBlob(10)));
        Assert.Equal("---p", ProcessMaps.PermissionsAt(at));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(UnmapBlob(10)));

        // Mapped again elsewhere, then unref: the range goes inaccessible and the host blob is released.
        Assert.Equal(OkMapInfo, U32(_guest.Send(MapBlob(10, 0x200000), 32), 0));
        Assert.Equal("rw-s", ProcessMaps.PermissionsAt(HostVisible.HostAddress + 0x200000));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Unref(10)));
        Assert.Equal("---p", ProcessMaps.PermissionsAt(HostVisible.HostAddress + 0x200000));
        Assert.True(blob.Disposed);
    }

    [Fact]
    public void Unaligned_out_of_window_overlapping_and_double_maps_are_invalid_parameter()
    {
        AddBlob(1, 3 * Page, seed: 1);
        AddBlob(2, Page, seed: 2);
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(10, Host3D, Mappable, 3 * Page, blobId: 1, contextId: 2)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(11, Host3D, Mappable, 100, blobId: 2, contextId: 2)));

        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(10, 0x10001)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(10, Window - Page)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(10, Window)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(10, ulong.MaxValue - (Page - 1))));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(MapBlob(99, 0)));
        Assert.Equal("---p", ProcessMaps.PermissionsAt(HostVisible.HostAddress + (nint)(Window - Page)));

        Assert.Equal(OkMapInfo, U32(_guest.Send(MapBlob(10, 0x10000), 32), 0));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(10, 0x20000)));
        // Blob 11 (one page once rounded) may not land on any of blob 10's pages, but may sit right after them.
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(11, 0x12000)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(11, 0x10000)));
        Assert.Equal(OkMapInfo, U32(_guest.Send(MapBlob(11, 0x13000), 32), 0));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(11, 0x14000)));
    }

    [Fact]
    public void Guest_blobs_non_mappable_blobs_and_2d_resources_cannot_be_mapped()
    {
        GuestBuffer pages = _guest.Machine.AllocateBuffer(Page);
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(1, 1, Mappable, Page, entries: (pages.Address, Page))));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(1, 0)));

        AddBlob(7, Page, seed: 7);
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(2, Host3D, 2, Page, blobId: 7, contextId: 2)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(2, 0)));

        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Create2D(3, 2, 8, 8)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(MapBlob(3, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(UnmapBlob(3)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(UnmapBlob(4)));
        Assert.Equal("---p", ProcessMaps.PermissionsAt(HostVisible.HostAddress));
    }

    [Fact]
    public void Host_blobs_need_a_context_that_has_the_blob()
    {
        AddBlob(5, 2 * Page, seed: 5);
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateContext(3, capset: 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, Host3D, Mappable, Page, blobId: 5, contextId: 9)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, Host3D, Mappable, Page, blobId: 5, contextId: 3)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, Host3D, Mappable, Page, blobId: 6, contextId: 2)));
        // Larger than what the context has, or with guest pages for a host-only blob.
        AddBlob(8, Page, seed: 8);
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, Host3D, Mappable, 3 * Page, blobId: 8, contextId: 2)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateBlob(1, Host3D, Mappable, Page, blobId: 5, contextId: 2, entries: (0x10000, Page))));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(1, Host3D, Mappable, 2 * Page, blobId: 5, contextId: 2)));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(AttachBacking(1, (0x10000, Page))));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(Transfer(1, 0, 0, 1, 1, 0)));
    }

    [Fact]
    public void Without_a_window_map_blob_fails_cleanly_and_no_region_is_asked_for()
    {
        using var services = new ServiceCollection().AddSingleton<Vmm.Contracts.Gpu.IGpuContextType>(_type).BuildServiceProvider();
        using var guest = new GpuGuest(services: services);
        Assert.Empty(guest.Device.SharedMemoryRegions);
        Assert.False(guest.Driver.TryFindSharedMemory(1, out _, out _));
        guest.SendType(CreateContext(2, capset: 5));
        AddBlob(3, Page, seed: 3);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(CreateBlob(1, Host3D, Mappable, Page, blobId: 3, contextId: 2)));
        Assert.Equal(GpuGuest.ErrUnspecified, guest.SendType(MapBlob(1, 0)));
        Assert.False(guest.Device.HasHostVisibleWindow);
    }

    [Fact]
    public void A_platform_that_cannot_map_the_window_leaves_the_device_without_it()
    {
        var factory = (Vmm.Contracts.Devices.IDeviceFactory)new VirtioGpuDeviceFactory();
        using var device = (VirtioGpuDevice)factory.Create(
            new Vmm.Contracts.Devices.DeviceCreateContext("gpu0", NullLoggerFactory.Instance, null, _services, AppContext.BaseDirectory),
            new VirtioGpuOptions { HostVisibleWindowSize = Window });
        Assert.Equal([new SharedMemoryRegionRequest(1, Window)], device.SharedMemoryRegions);
        device.Activate(new EmptyDeviceContext());
        Assert.False(device.HasHostVisibleWindow);
    }

    private MemfdBlob AddBlob(ulong blobId, ulong size, int seed)
    {
        var blob = new MemfdBlob(size);
        VirtioGpuBlobScanoutTests.Pattern((int)size, seed).CopyTo(blob.Bytes);
        _type.Blobs.Add(blobId, blob);
        return blob;
    }
}
