namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>Why a request is not a command: each is answered VIRTIO_GPU_RESP_ERR_UNSPECIFIED.</summary>
internal enum GpuDecodeErrorKind
{
    /// <summary>Fewer bytes than the 24-byte control header.</summary>
    ShorterThanHeader,

    /// <summary>A type this device does not know.</summary>
    UnknownCommand,

    /// <summary>Fewer bytes than the command's fixed layout.</summary>
    ShorterThanCommand,
}

/// <summary>A request that did not decode, with what was read and what its layout needs.</summary>
internal readonly record struct GpuDecodeError(GpuDecodeErrorKind Kind, uint CommandType, int Length, int Needed)
{
    /// <summary>The response type the guest gets.</summary>
    public uint Response => GpuResponseType.ErrUnspecified;

    /// <summary>Why, for the log.</summary>
    public string Reason => Kind switch
    {
        GpuDecodeErrorKind.ShorterThanHeader => "request shorter than its header",
        GpuDecodeErrorKind.UnknownCommand => "unknown or unsupported command",
        _ => $"request of {Length} bytes, {Needed} needed",
    };
}
