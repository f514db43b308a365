namespace Vmm.Plugins.VirtioVsock.Protocol;

/// <summary><c>enum virtio_vsock_op</c>: what a packet does.</summary>
internal enum VsockOp : ushort
{
    /// <summary>VIRTIO_VSOCK_OP_INVALID.</summary>
    Invalid = 0,

    /// <summary>VIRTIO_VSOCK_OP_REQUEST: open a connection.</summary>
    Request = 1,

    /// <summary>VIRTIO_VSOCK_OP_RESPONSE: the connection is accepted.</summary>
    Response = 2,

    /// <summary>VIRTIO_VSOCK_OP_RST: the connection is refused or torn down.</summary>
    Reset = 3,

    /// <summary>VIRTIO_VSOCK_OP_SHUTDOWN: the sender stops receiving and/or sending (<see cref="VsockShutdownFlags"/>).</summary>
    Shutdown = 4,

    /// <summary>VIRTIO_VSOCK_OP_RW: stream data.</summary>
    ReadWrite = 5,

    /// <summary>VIRTIO_VSOCK_OP_CREDIT_UPDATE: the sender's buf_alloc/fwd_cnt changed.</summary>
    CreditUpdate = 6,

    /// <summary>VIRTIO_VSOCK_OP_CREDIT_REQUEST: asks for a credit update.</summary>
    CreditRequest = 7,
}

/// <summary><c>enum virtio_vsock_type</c>.</summary>
internal enum VsockSocketType : ushort
{
    /// <summary>VIRTIO_VSOCK_TYPE_STREAM: the only type this device serves.</summary>
    Stream = 1,

    /// <summary>VIRTIO_VSOCK_TYPE_SEQPACKET: not offered (no VIRTIO_VSOCK_F_SEQPACKET).</summary>
    SeqPacket = 2,
}

/// <summary>The flags of <see cref="VsockOp.Shutdown"/>.</summary>
[Flags]
internal enum VsockShutdownFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>VIRTIO_VSOCK_SHUTDOWN_RCV: the sender receives no more data.</summary>
    Receive = 1,

    /// <summary>VIRTIO_VSOCK_SHUTDOWN_SEND: the sender sends no more data.</summary>
    Send = 2,

    /// <summary>Both directions.</summary>
    Both = Receive | Send,
}
