using Vmm.Contracts.Virtio;

namespace Vmm.Plugins.CrossDomain.Protocol;

/// <summary>What was wrong with a guest's cross-domain command: one kind per rule the guest broke.</summary>
internal enum CrossDomainErrorKind
{
    /// <summary>Fewer bytes than a command header, or than the header's cmd_size says.</summary>
    Truncated,

    /// <summary>cmd_size is smaller than the command's struct, or not a whole command.</summary>
    BadCommandSize,

    /// <summary>A command number this dialect does not know, or one only the host may send.</summary>
    UnknownCommand,

    /// <summary>A count or size past its limit (identifiers past 28, data past cmd_size or a ring).</summary>
    OutOfRange,

    /// <summary>A second INIT, or any channel command before INIT.</summary>
    BadState,

    /// <summary>A ring resource that is not attached to the context, or too small.</summary>
    BadRing,

    /// <summary>A channel type the host was not configured for, or whose socket cannot be reached.</summary>
    ChannelUnavailable,

    /// <summary>An identifier that this context does not hold, or of the wrong type.</summary>
    UnknownIdentifier,

    /// <summary>An id the guest chose (a futex id) that the context already uses.</summary>
    DuplicateIdentifier,

    /// <summary>A request the host cannot serve (a pixel format it cannot allocate).</summary>
    Unsupported,

    /// <summary>The host socket failed while sending.</summary>
    HostIo,
}

/// <summary>One guest error, the single funnel every cross-domain failure goes through.</summary>
/// <param name="Kind">Which rule was broken.</param>
/// <param name="Detail">What exactly, for the log.</param>
internal readonly record struct CrossDomainError(CrossDomainErrorKind Kind, string Detail)
{
    /// <summary>The exception virtio-gpu turns into VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER (never a crash).</summary>
    public VirtioProtocolException ToException() => new($"cross-domain: {Kind}: {Detail}");

    /// <summary>Throws <see cref="ToException"/>.</summary>
    public static VirtioProtocolException Throw(CrossDomainErrorKind kind, string detail) => new CrossDomainError(kind, detail).ToException();
}
