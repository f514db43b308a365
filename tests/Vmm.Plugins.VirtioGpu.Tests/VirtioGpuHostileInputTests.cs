using System.Buffers.Binary;
using Vmm.Contracts.Virtio;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>Malformed commands get the matching error response; the device keeps working afterwards.</summary>
public sealed class VirtioGpuHostileInputTests : IDisposable
{
    private readonly GpuGuest _guest = new(memorySize: 32UL << 20);

    public void Dispose() => _guest.Dispose();

    [Fact]
    public void Resource_id_zero_and_reused_ids_are_invalid_resource_id()
    {
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(Create2D(0, 2, 8, 8)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Create2D(7, 2, 8, 8)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(Create2D(7, 2, 8, 8)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(Transfer(uint.MaxValue, 0, 0, 1, 1, 0)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(Flush(8, 0, 0, 1, 1)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(AttachBacking(8, (0x10000, 256))));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(DetachBacking(8)));
    }

    [Fact]
    public void Empty_or_giant_dimensions_are_refused_without_a_host_allocation()
    {
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(Create2D(1, 2, 0, 8)));
        Assert.Equal(GpuGuest.ErrOutOfMemory, _guest.SendType(Create2D(1, 2, uint.MaxValue, uint.MaxValue)));
        Assert.Equal(GpuGuest.ErrOutOfMemory, _guest.SendType(Create2D(1, 2, 65536, 65536)));
        Assert.Equal(GpuGuest.ErrOutOfMemory, _guest.SendType(Create2D(1, 2, 16384, 16384)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Create2D(1, 2, 16, 16)));
    }

    [Fact]
    public void The_resource_count_and_byte_limits_answer_out_of_memory()
    {
        using var guest = new GpuGuest(new VirtioGpuOptions { MaxResources = 2, MaxResourceBytes = 1 << 20 });
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Create2D(1, 2, 256, 512)));           // 512 KiB
        Assert.Equal(GpuGuest.ErrOutOfMemory, guest.SendType(Create2D(2, 2, 256, 513)));      // over 1 MiB in all
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Create2D(2, 2, 16, 16)));
        Assert.Equal(GpuGuest.ErrOutOfMemory, guest.SendType(Create2D(3, 2, 16, 16)));        // a third resource
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Unref(1)));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Create2D(3, 2, 256, 512)));
    }

    [Fact]
    public void Backing_outside_guest_memory_or_wrapping_is_refused()
    {
        _guest.SendType(Create2D(1, 2, 8, 8));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(AttachBacking(1, (32UL << 20, 256))));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(AttachBacking(1, ((32UL << 20) - 16, 256))));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(AttachBacking(1, (ulong.MaxValue - 15, 256))));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(AttachBacking(1, (0x10000, 256), (ulong.MaxValue, uint.MaxValue))));
        // None of those attached anything: a good attach still works, a second one does not.
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(AttachBacking(1, (0x10000, 256))));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(AttachBacking(1, (0x10000, 256))));
    }

    [Fact]
    public void Backing_entry_counts_beyond_the_bound_or_the_request_are_refused()
    {
        _guest.SendType(Create2D(1, 2, 8, 8));
        byte[] tooMany = AttachBacking(1, (0x10000, 256));
        BinaryPrimitives.WriteUInt32LittleEndian(tooMany.AsSpan(28), 16385);
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(tooMany));

        byte[] truncated = AttachBacking(1, (0x10000, 256));
        BinaryPrimitives.WriteUInt32LittleEndian(truncated.AsSpan(28), 2);
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(truncated));

        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(AttachBacking(1)));
    }

    [Fact]
    public void Backing_entries_may_span_descriptors()
    {
        _guest.SendType(Create2D(1, 2, 8, 8));
        byte[] command = AttachBacking(1, (0x10000, 100), (0x20000, 156));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(command.AsSpan(0, 40), command[40..]));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Transfer(1, 0, 0, 8, 8, 0)));
    }

    [Fact]
    public void Transfer_rects_outside_the_resource_or_past_the_backing_are_invalid_parameter()
    {
        _guest.SendType(Create2D(1, 2, 8, 8));
        _guest.SendType(AttachBacking(1, (0x10000, 256)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(Transfer(1, 4, 0, 5, 1, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(Transfer(1, 0, 8, 1, 1, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(Transfer(1, uint.MaxValue, 0, 2, 1, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(Transfer(1, 0, uint.MaxValue, 1, 2, 0)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(Transfer(1, 0, 0, 8, 8, 4)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(Transfer(1, 0, 0, 1, 1, ulong.MaxValue - 2)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(Flush(1, 0, 0, 9, 8)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Transfer(1, 0, 0, 8, 8, 0)));
    }

    [Fact]
    public void Scanouts_on_missing_resources_or_ids_or_outside_rects_are_refused()
    {
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(SetScanout(0, 5, 0, 0, 8, 8)));
        Assert.Equal(GpuGuest.ErrInvalidScanoutId, _guest.SendType(SetScanout(1, 5, 0, 0, 8, 8)));
        Assert.Equal(GpuGuest.ErrInvalidScanoutId, _guest.SendType(SetScanout(uint.MaxValue, 0, 0, 0, 8, 8)));
        _guest.SendType(Create2D(5, 2, 8, 8));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanout(0, 5, 1, 0, 8, 8)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(SetScanout(0, 5, 0, 0, 0, 8)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(SetScanout(0, 5, 0, 0, 8, 8)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(SetScanout(0, 0, 0, 0, 0, 0)));
    }

    [Fact]
    public void Commands_in_buffers_too_short_get_err_unspec()
    {
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(Create2D(1, 2, 8, 8).AsSpan(0, 36)));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(Transfer(1, 0, 0, 1, 1, 0).AsSpan(0, 52)));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(GetDisplayInfo().AsSpan(0, 10)));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(Header(0x0999, 24)));
        Assert.Equal(GpuGuest.ErrUnspecified, _guest.SendType(Header(0x0200, 96)));   // CTX_CREATE: no 3D
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(Header(0x0108, 32)));  // GET_CAPSET_INFO: none
    }

    [Fact]
    public void A_response_buffer_shorter_than_the_response_gets_what_fits()
    {
        byte[] response = _guest.Send(GetDisplayInfo(), 24);
        Assert.Equal(24, response.Length);
        Assert.Equal(0x1101u, U32(response, 0));
    }

    [Fact]
    public void After_all_of_that_the_device_is_still_live()
    {
        Backing_outside_guest_memory_or_wrapping_is_refused();
        Commands_in_buffers_too_short_get_err_unspec();
        Assert.Equal(0x1101u, U32(_guest.Send(GetDisplayInfo(), 408), 0));
        Assert.Equal(0, _guest.Driver.ReadStatus() & 0x40); // not DEVICE_NEEDS_RESET
    }
}
