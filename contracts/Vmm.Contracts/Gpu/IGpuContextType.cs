namespace Vmm.Contracts.Gpu;

/// <summary>
/// A virtio-gpu context type (VIRTIO_GPU_F_CONTEXT_INIT): a capset the guest can query and the contexts it
/// creates against it. Cross-domain (capset 5) is one; a DRM native context would be another.
/// </summary>
public interface IGpuContextType
{
    /// <summary>The capset id (VIRTIO_GPU_CAPSET_*), also the context_init value the guest passes.</summary>
    uint CapsetId { get; }

    /// <summary>The highest capset version served.</summary>
    uint CapsetMaxVersion { get; }

    /// <summary>The capset size in bytes.</summary>
    int CapsetMaxSize { get; }

    /// <summary>Writes the capset of <paramref name="version"/>; returns the bytes written.</summary>
    int WriteCapset(uint version, Span<byte> destination);

    /// <summary>Creates a context for CTX_CREATE with this context type.</summary>
    IGpuContext CreateContext(GpuContextCreateInfo info, IGpuContextHost host);
}

/// <summary>What the guest asked for in VIRTIO_GPU_CMD_CTX_CREATE.</summary>
/// <param name="ContextId">The guest's context id.</param>
/// <param name="DebugName">The guest's debug name.</param>
public readonly record struct GpuContextCreateInfo(uint ContextId, string DebugName);
