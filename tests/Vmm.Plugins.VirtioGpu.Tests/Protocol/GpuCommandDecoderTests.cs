using System.Runtime.CompilerServices;
using Vmm.Plugins.VirtioGpu.Protocol;
using Vmm.Plugins.VirtioGpu.Protocol.Commands;
using Vmm.Plugins.VirtioGpu.Protocol.Responses;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests.Protocol;

/// <summary>
/// The decoder against commands built byte by byte from include/uapi/linux/virtio_gpu.h (<see cref="GpuCommands"/>):
/// every command's fields come out of the offsets the header names, and what is not a command is a typed error.
/// </summary>
public sealed class GpuCommandDecoderTests
{
    /// <summary>Each command type and its size in virtio_gpu.h (the header plus the command struct).</summary>
    public static TheoryData<uint, int> CommandSizes => new()
    {
        { 0x0100, 24 }, // GET_DISPLAY_INFO: the header alone
        { 0x0101, 40 }, // RESOURCE_CREATE_2D
        { 0x0102, 32 }, // RESOURCE_UNREF
        { 0x0103, 48 }, // SET_SCANOUT
        { 0x0104, 48 }, // RESOURCE_FLUSH
        { 0x0105, 56 }, // TRANSFER_TO_HOST_2D
        { 0x0106, 32 }, // RESOURCE_ATTACH_BACKING (entries follow)
        { 0x0107, 32 }, // RESOURCE_DETACH_BACKING
        { 0x0108, 32 }, // GET_CAPSET_INFO
        { 0x0109, 32 }, // GET_CAPSET
        { 0x010A, 32 }, // GET_EDID
        { 0x010C, 56 }, // RESOURCE_CREATE_BLOB (entries follow)
        { 0x010D, 96 }, // SET_SCANOUT_BLOB
        { 0x0200, 96 }, // CTX_CREATE
        { 0x0201, 24 }, // CTX_DESTROY
        { 0x0202, 32 }, // CTX_ATTACH_RESOURCE
        { 0x0203, 32 }, // CTX_DETACH_RESOURCE
        { 0x0207, 32 }, // SUBMIT_3D (the command stream follows)
        { 0x0208, 40 }, // RESOURCE_MAP_BLOB
        { 0x0209, 32 }, // RESOURCE_UNMAP_BLOB
        { 0x0300, 56 }, // UPDATE_CURSOR
        { 0x0301, 56 }, // MOVE_CURSOR
    };

    [Theory]
    [MemberData(nameof(CommandSizes))]
    public void Each_command_decodes_at_its_size_and_one_byte_less_is_a_typed_error(uint type, int size)
    {
        Assert.True(GpuCommandDecoder.TryDecode(Header(type, size), out GpuCommand command, out _));
        Assert.Equal(type, command.Header.Type);
        Assert.Equal(size, command.Length);

        Assert.False(GpuCommandDecoder.TryDecode(Header(type, size)[..(size - 1)], out _, out GpuDecodeError error));
        GpuDecodeErrorKind expected = size == 24 ? GpuDecodeErrorKind.ShorterThanHeader : GpuDecodeErrorKind.ShorterThanCommand;
        Assert.Equal(expected, error.Kind);
        Assert.Equal(size - 1, error.Length);
        Assert.Equal(size, error.Needed);
        Assert.Equal(0x1200u, error.Response);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(23)]
    public void A_request_shorter_than_the_header_is_a_typed_error(int length)
    {
        Assert.False(GpuCommandDecoder.TryDecode(new byte[length], out _, out GpuDecodeError error));
        Assert.Equal(GpuDecodeErrorKind.ShorterThanHeader, error.Kind);
        Assert.Equal("request shorter than its header", error.Reason);
    }

    [Theory]
    [InlineData(0x0000u)]
    [InlineData(0x010Bu)] // RESOURCE_ASSIGN_UUID: not offered
    [InlineData(0x0204u)] // RESOURCE_CREATE_3D: virgl 3D is not offered
    [InlineData(0x1100u)] // a response type sent as a command
    [InlineData(0xFFFF_FFFFu)]
    public void An_unknown_type_is_a_typed_error_that_names_it(uint type)
    {
        Assert.False(GpuCommandDecoder.TryDecode(Header(type, 96), out _, out GpuDecodeError error));
        Assert.Equal(GpuDecodeErrorKind.UnknownCommand, error.Kind);
        Assert.Equal(type, error.CommandType);
        Assert.Equal(0x1200u, error.Response);
    }

    [Fact]
    public void The_header_fields_come_from_their_offsets_and_the_response_echoes_the_fence()
    {
        GpuControlHeader header = Decode(Header(0x0100, 24, flags: 3, fenceId: 0x1122_3344_5566_7788, contextId: 7, ringIndex: 5)).Header;
        Assert.Equal(new GpuControlHeader(0x0100, 3, 0x1122_3344_5566_7788, 7, 5), header);
        Assert.True(header.IsFenced);
        Assert.True(header.IsOnRing);

        byte[] response = new byte[24];
        (header with { Flags = 0xFF }).WriteResponse(0x1100, response);
        Assert.Equal(Header(0x1100, 24, flags: 3, fenceId: 0x1122_3344_5566_7788, contextId: 7, ringIndex: 5), response);
    }

    [Fact]
    public void Resource_commands_decode_to_their_fields()
    {
        Assert.Equal(new ResourceCreate2D(7, 2, 640, 480), Decode(Create2D(7, 2, 640, 480)).Read<ResourceCreate2D>());
        Assert.Equal(9u, Decode(Unref(9)).Read<ResourceUnref>().ResourceId);
        Assert.Equal(new ResourceAttachBacking(5, 2), Decode(AttachBacking(5, (0x1000, 64), (0x9000, 32))).Read<ResourceAttachBacking>());
        Assert.Equal(11u, Decode(DetachBacking(11)).Read<ResourceDetachBacking>().ResourceId);
        Assert.Equal(
            new TransferToHost2D(new GpuRect(1, 2, 3, 4), 0x1_0000_0040, 6, 0),
            Decode(Transfer(6, 1, 2, 3, 4, 0x1_0000_0040)).Read<TransferToHost2D>());
        Assert.Equal(new ResourceFlush(new GpuRect(5, 6, 7, 8), 3, 0), Decode(Flush(3, 5, 6, 7, 8)).Read<ResourceFlush>());
    }

    [Fact]
    public void Scanout_and_cursor_commands_decode_to_their_fields()
    {
        Assert.Equal(2u, Decode(GetEdid(2)).Read<GetEdid>().Scanout);
        Assert.Equal(new SetScanout(new GpuRect(10, 20, 30, 40), 1, 4), Decode(SetScanout(1, 4, 10, 20, 30, 40)).Read<SetScanout>());

        SetScanoutBlob blob = Decode(SetScanoutBlob(0, 8, (1, 2, 100, 50), 200, 100, 67, 832, 4096)).Read<SetScanoutBlob>();
        Assert.Equal((new GpuRect(1, 2, 100, 50), 0u, 8u, 200u, 100u, 67u), (blob.Rect, blob.ScanoutId, blob.ResourceId, blob.Width, blob.Height, blob.Format));
        PlaneValues strides = blob.Strides, offsets = blob.Offsets;
        Assert.Equal((832u, 4096u), (strides[0], offsets[0]));

        CursorUpdate cursor = Decode(Cursor(0x0300, 0, 30, 40, 12, 3, 4)).Read<CursorUpdate>();
        Assert.Equal((0u, 30u, 40u, 12u, 3u, 4u), (cursor.ScanoutId, cursor.X, cursor.Y, cursor.ResourceId, cursor.HotX, cursor.HotY));
    }

    [Fact]
    public void Blob_and_context_commands_decode_to_their_fields()
    {
        Assert.Equal(
            new ResourceCreateBlob(4, 3, 1, 1, 0x77, 0x2000),
            Decode(CreateBlob(4, 3, 1, 0x2000, blobId: 0x77, contextId: 2, (0x5000, 0x2000))).Read<ResourceCreateBlob>());
        Assert.Equal(new ResourceMapBlob(4, 0, 0x20_0000), Decode(MapBlob(4, 0x20_0000)).Read<ResourceMapBlob>());
        Assert.Equal(4u, Decode(UnmapBlob(4)).Read<ResourceUnmapBlob>().ResourceId);

        ContextCreate create = Decode(CreateContext(3, 0x1_05)).Read<ContextCreate>();
        Assert.Equal((5u, "test"), (create.CapsetId, create.Name));
        Assert.Equal(6u, Decode(With(Header(0x0202, 32, contextId: 3), (24, 6))).Read<ContextAttachResource>().ResourceId);
        Assert.Equal(6u, Decode(With(Header(0x0203, 32, contextId: 3), (24, 6))).Read<ContextDetachResource>().ResourceId);
        Assert.Equal(new Submit3D(16, 0), Decode(With(Header(0x0207, 48, contextId: 3), (24, 16))).Read<Submit3D>());
        Assert.Equal(new GetCapsetInfo(1, 0), Decode(With(Header(0x0108, 32), (24, 1))).Read<GetCapsetInfo>());
        Assert.Equal(new GetCapset(5, 2), Decode(With(Header(0x0109, 32), (24, 5), (28, 2))).Read<GetCapset>());
    }

    [Fact]
    public void A_context_name_is_cut_at_nlen_and_at_most_64_bytes()
    {
        byte[] command = With(Header(0x0200, 96), (24, 1000), (28, 5));
        command.AsSpan(32, 64).Fill((byte)'a');
        Assert.Equal(new string('a', 64), Decode(command).Read<ContextCreate>().Name);
        Assert.Equal("aa", Decode(With(command, (24, 2))).Read<ContextCreate>().Name);
    }

    [Fact]
    public void Response_bodies_have_the_sizes_of_virtio_gpu_h()
    {
        Assert.Equal(24, GpuControlHeader.Size);
        Assert.Equal(16, GpuMemEntry.Size);
        Assert.Equal(408 - 24, Unsafe.SizeOf<DisplayInfoResponse>());   // virtio_gpu_resp_display_info
        Assert.Equal(1056 - 24, Unsafe.SizeOf<EdidResponse>());         // virtio_gpu_resp_edid
        Assert.Equal(40 - 24, Unsafe.SizeOf<CapsetInfoResponse>());     // virtio_gpu_resp_capset_info
        Assert.Equal(32 - 24, Unsafe.SizeOf<MapInfoResponse>());        // virtio_gpu_resp_map_info
        Assert.Equal(96, GpuCommandDecoder.MaxCommandSize);
    }

    private static GpuCommand Decode(byte[] request)
    {
        Assert.True(GpuCommandDecoder.TryDecode(request, out GpuCommand command, out GpuDecodeError error), error.Reason);
        return command;
    }
}
