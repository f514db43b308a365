using System.Buffers.Binary;
using Vmm.Contracts.Display;
using Vmm.Contracts.Virtio;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>The device through the in-process PCI driver, driven the way a Linux 6.1 guest brings up fbcon.</summary>
public sealed class VirtioGpuBringUpTests
{
    [Fact]
    public void Config_space_reports_one_scanout_no_capsets_and_edid_is_offered()
    {
        using var guest = new GpuGuest();
        Span<byte> config = stackalloc byte[16];
        guest.Driver.ReadDeviceConfig(0, config);

        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(config));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(config[8..]));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(config[12..]));
        Assert.NotEqual(0UL, guest.Driver.NegotiatedFeatures & (1UL << 1));
        Assert.NotEqual(0UL, guest.Driver.NegotiatedFeatures & VirtioFeatures.Version1);
        Assert.Equal(2, guest.Driver.QueueCount);
    }

    [Fact]
    public void A_resize_sets_the_display_event_raises_the_config_interrupt_and_events_clear_clears_it()
    {
        using var guest = new GpuGuest();
        guest.Send(GetDisplayInfo(), 408);
        guest.Device.SetScanoutMode(0, 1920, 1080);

        Assert.True(guest.Driver.WaitForConfigInterrupt(TimeSpan.FromSeconds(10)));
        Span<byte> config = stackalloc byte[4];
        guest.Driver.ReadDeviceConfig(0, config);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(config));
        byte[] info = guest.Send(GetDisplayInfo(), 408);
        Assert.Equal(1920u, U32(info, 24 + 8));
        Assert.Equal(1080u, U32(info, 24 + 12));

        guest.Driver.WriteDeviceConfig(4, [1, 0, 0, 0]);
        guest.Driver.ReadDeviceConfig(0, config);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(config));
    }

    [Fact]
    public void Display_info_lists_the_configured_modes_enabled()
    {
        var options = new VirtioGpuOptions { Scanouts = [new() { Width = 1024, Height = 768 }, new() { Width = 800, Height = 600 }] };
        using var guest = new GpuGuest(options);

        byte[] response = guest.Send(GetDisplayInfo(), 408);

        Assert.Equal(408, response.Length);
        Assert.Equal(0x1101u, U32(response, 0));
        Assert.Equal((1024u, 768u, 1u), (U32(response, 24 + 8), U32(response, 24 + 12), U32(response, 24 + 16)));
        Assert.Equal((800u, 600u, 1u), (U32(response, 48 + 8), U32(response, 48 + 12), U32(response, 48 + 16)));
        Assert.Equal(0u, U32(response, 72 + 16));
    }

    [Fact]
    public void Edid_is_a_valid_1_4_block_with_a_detailed_timing_of_the_scanout_mode()
    {
        using var guest = new GpuGuest();

        byte[] response = guest.Send(GetEdid(0), 1056);

        Assert.Equal(1056, response.Length);
        Assert.Equal(0x1104u, U32(response, 0));
        Assert.Equal(128u, U32(response, 24));
        byte[] edid = response.AsSpan(32, 128).ToArray();
        Assert.Equal(new byte[] { 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0 }, edid[..8]);
        Assert.Equal((1, 4), (edid[18], edid[19]));
        Assert.Equal(0, edid.Aggregate(0, (sum, b) => (sum + b) & 0xFF));
        // The first descriptor is a detailed timing (pixel clock != 0) of 1280x800.
        Assert.NotEqual(0, BinaryPrimitives.ReadUInt16LittleEndian(edid.AsSpan(54)));
        Assert.Equal(1280, edid[56] | ((edid[58] >> 4) << 8));
        Assert.Equal(800, edid[59] | ((edid[61] >> 4) << 8));

        // Established timings: 640x480 and 800x600 fit inside 1280x800, 1024x768 does too; nothing larger is claimed.
        Assert.Equal(0x21, edid[35]);
        Assert.Equal(0x08, edid[36]);
        Assert.Equal(0, edid[37]);
        Assert.All(response.AsSpan(32 + 128).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Edid_for_a_missing_scanout_is_invalid_parameter()
    {
        using var guest = new GpuGuest();
        Assert.Equal(GpuGuest.ErrInvalidParameter, U32(guest.Send(GetEdid(1), 1056), 0));
    }

    [Fact]
    public void Fenced_commands_echo_flags_fence_id_context_and_ring_exactly()
    {
        using var guest = new GpuGuest();
        byte[] command = Header(0x0100, 24, flags: 0x3, fenceId: 0x1122_3344_5566_7788, contextId: 7, ringIndex: 5);

        byte[] response = guest.Send(command, 408);

        Assert.Equal(0x1101u, U32(response, 0));
        Assert.Equal(0x3u, U32(response, 4));
        Assert.Equal(0x1122_3344_5566_7788UL, BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(8)));
        Assert.Equal(7u, U32(response, 16));
        Assert.Equal(5, response[20]);
    }

    [Fact]
    public void Fence_is_echoed_on_errors_too()
    {
        using var guest = new GpuGuest();
        byte[] response = guest.Send(With(Unref(99), flags: 1, fenceId: 42));

        Assert.Equal(GpuGuest.ErrInvalidResourceId, U32(response, 0));
        Assert.Equal(1u, U32(response, 4));
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64LittleEndian(response.AsSpan(8)));
    }

    [Fact]
    public void Linux_fbcon_bring_up_publishes_a_mode_and_frames_with_the_guest_pixels()
    {
        const uint width = 64, height = 48;
        using var guest = new GpuGuest();
        var sink = new CapturingSink();
        guest.Device.Connect(sink);

        Assert.Equal(0x1104u, U32(guest.Send(GetEdid(0), 1056), 0));
        Assert.Equal(0x1101u, U32(guest.Send(GetDisplayInfo(), 408), 0));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Create2D(1, 2, width, height)));
        byte[] image = Pattern(width, height);
        ulong backing = guest.Machine.Allocator.Allocate((ulong)image.Length, 4096);
        guest.Machine.Memory.Write(backing, image);
        // Two runs, split off a page boundary, as merged guest pages arrive.
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(AttachBacking(1, (backing, 5000), (backing + 5000, (uint)image.Length - 5000))));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Transfer(1, 0, 0, width, height, 0)));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(SetScanout(0, 1, 0, 0, width, height)));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 0, 0, width, height)));

        Assert.Equal([new DisplayMode(64, 48, 256, PixelFormat.B8G8R8X8)], sink.Modes);
        Assert.Equal(image, sink.Frames[^1].Pixels);
        Assert.Equal([new DamageRect(0, 0, 64, 48)], sink.Frames[^1].Damage);
        Assert.Equal(new DisplayMode(64, 48, 256, PixelFormat.B8G8R8X8), guest.Device.CurrentMode);

        // A console update: only a damaged rect is transferred and flushed; Linux's offset points at its first pixel.
        image.AsSpan((int)((10 * width * 4) + (8 * 4)), 4).Fill(0xAB);
        guest.Machine.Memory.Write(backing, image);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Transfer(1, 8, 10, 4, 2, (10 * width * 4) + (8 * 4))));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 8, 10, 4, 2)));

        Assert.Equal([new DamageRect(8, 10, 4, 2)], sink.Frames[^1].Damage);
        Assert.Equal(image, sink.Frames[^1].Pixels);
        Assert.True(sink.Frames[^1].Sequence > sink.Frames[^2].Sequence);
    }

    [Fact]
    public void A_scanout_of_part_of_a_resource_publishes_that_part_and_clips_damage()
    {
        using var guest = new GpuGuest();
        var sink = new CapturingSink();
        guest.Device.Connect(sink);
        byte[] image = Pattern(32, 32);
        ulong backing = guest.Machine.Allocator.Allocate((ulong)image.Length, 4096);
        guest.Machine.Memory.Write(backing, image);
        guest.SendType(Create2D(3, 1, 32, 32));
        guest.SendType(AttachBacking(3, (backing, (uint)image.Length)));
        guest.SendType(Transfer(3, 0, 0, 32, 32, 0));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(SetScanout(0, 3, 8, 4, 16, 16)));
        guest.SendType(Flush(3, 0, 0, 12, 12));

        var (mode, pixels, damage, _) = sink.Frames[^1];
        Assert.Equal(new DisplayMode(16, 16, 128, PixelFormat.B8G8R8A8), mode);
        Assert.Equal([new DamageRect(0, 0, 4, 8)], damage);
        Assert.Equal(image.AsSpan((4 * 128) + (8 * 4), 16 * 4).ToArray(), pixels.AsSpan(0, 16 * 4).ToArray());
    }

    [Fact]
    public void A_sink_connecting_late_gets_the_mode_and_a_full_frame()
    {
        using var guest = new GpuGuest();
        guest.SendType(Create2D(1, 2, 16, 16));
        ulong backing = guest.Machine.Allocator.Allocate(1024, 4096);
        guest.Machine.Memory.Write(backing, Pattern(16, 16));
        guest.SendType(AttachBacking(1, (backing, 1024)));
        guest.SendType(Transfer(1, 0, 0, 16, 16, 0));
        guest.SendType(SetScanout(0, 1, 0, 0, 16, 16));

        var sink = new CapturingSink();
        guest.Device.Connect(sink);
        // The resend happens on the worker; a no-op command afterwards orders it before this thread looks.
        guest.Send(GetDisplayInfo(), 408);

        Assert.Equal([new DisplayMode(16, 16, 64, PixelFormat.B8G8R8X8)], sink.Modes);
        Assert.Equal(Pattern(16, 16), sink.Frames.Single().Pixels);
    }

    [Fact]
    public void Every_linux_format_is_accepted_and_unknown_ones_are_not()
    {
        using var guest = new GpuGuest();
        uint id = 1;
        foreach (uint format in new uint[] { 1, 2, 3, 4, 67, 68, 121, 134 })
        {
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(Create2D(id++, format, 8, 8)));
        }

        Assert.Equal(GpuGuest.ErrInvalidParameter, guest.SendType(Create2D(id, 5, 8, 8)));
    }

    [Fact]
    public void Unref_frees_and_detach_then_transfer_fails()
    {
        using var guest = new GpuGuest();
        guest.SendType(Create2D(1, 2, 8, 8));
        ulong backing = guest.Machine.Allocator.Allocate(256, 4096);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(AttachBacking(1, (backing, 256))));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(DetachBacking(1)));
        Assert.Equal(GpuGuest.ErrUnspecified, guest.SendType(Transfer(1, 0, 0, 8, 8, 0)));
        Assert.Equal(GpuGuest.ErrUnspecified, guest.SendType(DetachBacking(1)));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Unref(1)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, guest.SendType(Unref(1)));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Create2D(1, 2, 8, 8)));
    }

    internal static byte[] Pattern(uint width, uint height)
    {
        byte[] image = new byte[width * height * 4];
        for (int i = 0; i < image.Length; i += 4)
        {
            int pixel = i / 4;
            image[i] = (byte)(pixel * 7);
            image[i + 1] = (byte)(pixel / (int)width * 5);
            image[i + 2] = (byte)(pixel % (int)width * 3);
            image[i + 3] = 0xFF;
        }

        return image;
    }

    private static byte[] With(byte[] command, uint flags, ulong fenceId)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(command.AsSpan(8), fenceId);
        return command;
    }
}
