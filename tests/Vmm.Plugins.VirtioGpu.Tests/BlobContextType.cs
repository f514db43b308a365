using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Gpu;
using Vmm.Core.Memory;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>A context type (capset 5) whose contexts hand out the host blobs a test prepared, by blob id.</summary>
internal sealed class BlobContextType : IGpuContextType
{
    public Dictionary<ulong, MemfdBlob> Blobs { get; } = [];

    public uint CapsetId => 5;

    public uint CapsetMaxVersion => 0;

    public int CapsetMaxSize => 16;

    public int WriteCapset(uint version, Span<byte> destination) => 16;

    public IGpuContext CreateContext(GpuContextCreateInfo info, IGpuContextHost host) => new BlobContext(this);

    private sealed class BlobContext(BlobContextType type) : IGpuContext
    {
        public void Submit(ReadOnlySpan<byte> commands)
        {
        }

        public void CreateFence(uint ringIndex, ulong fenceId)
        {
        }

        public void AttachResource(IGpuResource resource)
        {
        }

        public void DetachResource(uint resourceId)
        {
        }

        public IGpuBlob? CreateBlob(uint resourceId, ulong blobId, ulong size) => type.Blobs.GetValueOrDefault(blobId);

        public void Dispose()
        {
        }
    }
}

/// <summary>A host blob in a memfd (the memory file of a one-region <see cref="GuestMemory"/>), readable through <see cref="Bytes"/>.</summary>
internal sealed class MemfdBlob : IGpuBlob
{
    private readonly GuestMemory _memory;

    public MemfdBlob(ulong size)
    {
        _memory = GuestMemory.Create(size);
        Size = size;
    }

    public ulong Size { get; }

    public SafeFileHandle File => _memory.MappedRegions[0].File!;

    public long FileOffset => _memory.MappedRegions[0].FileOffset;

    public bool Disposed { get; private set; }

    /// <summary>The blob's bytes through this process's own mapping of the memfd.</summary>
    public Span<byte> Bytes => _memory.GetSpan(0, (int)Size);

    public void Dispose()
    {
        if (!Disposed)
        {
            Disposed = true;
            _memory.Dispose();
        }
    }
}
