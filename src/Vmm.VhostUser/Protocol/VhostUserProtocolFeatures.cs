namespace Vmm.VhostUser.Protocol;

/// <summary>Protocol feature bits and the virtio feature bit that announces them.</summary>
internal static class VhostUserProtocolFeatures
{
    /// <summary>VHOST_USER_F_PROTOCOL_FEATURES (bit 30 of GET_FEATURES).</summary>
    public const ulong ProtocolFeaturesBit = 1UL << 30;

    /// <summary>VHOST_USER_PROTOCOL_F_MQ.</summary>
    public const ulong MultipleQueues = 1UL << 0;

    /// <summary>VHOST_USER_PROTOCOL_F_REPLY_ACK.</summary>
    public const ulong ReplyAck = 1UL << 3;

    /// <summary>VHOST_USER_PROTOCOL_F_BACKEND_REQ (was SLAVE_REQ).</summary>
    public const ulong BackendRequests = 1UL << 5;

    /// <summary>VHOST_USER_PROTOCOL_F_CONFIG.</summary>
    public const ulong Config = 1UL << 9;

    /// <summary>VHOST_USER_PROTOCOL_F_RESET_DEVICE.</summary>
    public const ulong ResetDevice = 1UL << 13;

    /// <summary>What our back-end offers.</summary>
    public const ulong Supported = MultipleQueues | ReplyAck | Config | ResetDevice;
}
