using Vmm.Plugins.VirtioVsock.Protocol;
using Vmm.Testing.Native;

namespace Vmm.Plugins.VirtioVsock.Tests;

/// <summary>The packet header, config and event layouts against the kernel's own <c>&lt;linux/virtio_vsock.h&gt;</c>.</summary>
public sealed class LayoutTests
{
    [Fact]
    public void Header_config_and_event_offsets_equal_the_kernel_header()
    {
        string? compiler = CHeaderCheck.FindCompiler();
        if (compiler is null || !File.Exists("/usr/include/linux/virtio_vsock.h"))
        {
            Assert.Skip("gcc or the kernel uapi headers (linux-libc-dev) are not installed.");
        }

        var check = new CHeaderCheck().Include("linux/virtio_vsock.h")
            .Equal("sizeof(struct virtio_vsock_hdr)", VsockHeader.Size, "Size")
            .Equal("offsetof(struct virtio_vsock_hdr, src_cid)", VsockHeader.SourceCidOffset, "src_cid")
            .Equal("offsetof(struct virtio_vsock_hdr, dst_cid)", VsockHeader.DestinationCidOffset, "dst_cid")
            .Equal("offsetof(struct virtio_vsock_hdr, src_port)", VsockHeader.SourcePortOffset, "src_port")
            .Equal("offsetof(struct virtio_vsock_hdr, dst_port)", VsockHeader.DestinationPortOffset, "dst_port")
            .Equal("offsetof(struct virtio_vsock_hdr, len)", VsockHeader.LengthOffset, "len")
            .Equal("offsetof(struct virtio_vsock_hdr, type)", VsockHeader.TypeOffset, "type")
            .Equal("offsetof(struct virtio_vsock_hdr, op)", VsockHeader.OpOffset, "op")
            .Equal("offsetof(struct virtio_vsock_hdr, flags)", VsockHeader.FlagsOffset, "flags")
            .Equal("offsetof(struct virtio_vsock_hdr, buf_alloc)", VsockHeader.BufferAllocationOffset, "buf_alloc")
            .Equal("offsetof(struct virtio_vsock_hdr, fwd_cnt)", VsockHeader.ForwardCountOffset, "fwd_cnt")
            .Equal("sizeof(struct virtio_vsock_config)", VsockLayout.ConfigSize, "config")
            .Equal("offsetof(struct virtio_vsock_config, guest_cid)", VsockLayout.GuestCidOffset, "guest_cid")
            .Equal("sizeof(struct virtio_vsock_event)", VsockLayout.EventSize, "event")
            .Equal("VIRTIO_VSOCK_EVENT_TRANSPORT_RESET", VsockLayout.TransportResetEvent, "TRANSPORT_RESET")
            .Equal("VIRTIO_VSOCK_TYPE_STREAM", (long)VsockSocketType.Stream, "STREAM")
            .Equal("VIRTIO_VSOCK_OP_REQUEST", (long)VsockOp.Request, "REQUEST")
            .Equal("VIRTIO_VSOCK_OP_RESPONSE", (long)VsockOp.Response, "RESPONSE")
            .Equal("VIRTIO_VSOCK_OP_RST", (long)VsockOp.Reset, "RST")
            .Equal("VIRTIO_VSOCK_OP_SHUTDOWN", (long)VsockOp.Shutdown, "SHUTDOWN")
            .Equal("VIRTIO_VSOCK_OP_RW", (long)VsockOp.ReadWrite, "RW")
            .Equal("VIRTIO_VSOCK_OP_CREDIT_UPDATE", (long)VsockOp.CreditUpdate, "CREDIT_UPDATE")
            .Equal("VIRTIO_VSOCK_OP_CREDIT_REQUEST", (long)VsockOp.CreditRequest, "CREDIT_REQUEST")
            .Equal("VIRTIO_VSOCK_SHUTDOWN_RCV", (long)VsockShutdownFlags.Receive, "SHUTDOWN_RCV")
            .Equal("VIRTIO_VSOCK_SHUTDOWN_SEND", (long)VsockShutdownFlags.Send, "SHUTDOWN_SEND");
        Assert.Empty(check.Run(compiler));
    }

    [Fact]
    public void Header_round_trips_every_field()
    {
        var header = new VsockHeader(3, 2, 1024, 1U << 30, 4096, VsockSocketType.Stream, VsockOp.ReadWrite, 3, 262144, 77);
        byte[] bytes = new byte[VsockHeader.Size];
        header.Write(bytes);
        Assert.Equal(header, VsockHeader.Read(bytes));
        Assert.Equal(1024u, BitConverter.ToUInt32(bytes, VsockHeader.SourcePortOffset));
    }
}
