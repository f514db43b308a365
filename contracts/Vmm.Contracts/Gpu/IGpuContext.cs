namespace Vmm.Contracts.Gpu;

/// <summary>
/// One guest GPU context of a context type. Calls come from the virtio-gpu worker. A malformed command throws
/// <see cref="Virtio.VirtioProtocolException"/>: the guest gets VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER.
/// </summary>
public interface IGpuContext : IDisposable
{
    /// <summary>Handles VIRTIO_GPU_CMD_SUBMIT_3D: the command stream, copied out of the guest.</summary>
    void Submit(ReadOnlySpan<byte> commands);

    /// <summary>
    /// A fenced command on ring <paramref name="ringIndex"/> wants <paramref name="fenceId"/> signalled once work
    /// queued before it completes; call <see cref="IGpuContextHost.CompleteFence"/> then.
    /// </summary>
    void CreateFence(uint ringIndex, ulong fenceId);

    /// <summary>VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE.</summary>
    void AttachResource(IGpuResource resource);

    /// <summary>VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE.</summary>
    void DetachResource(uint resourceId);

    /// <summary>
    /// VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB with host3d memory: returns the host memory behind
    /// <paramref name="blobId"/>, or null when the context has no such blob.
    /// </summary>
    IGpuBlob? CreateBlob(uint resourceId, ulong blobId, ulong size);
}
