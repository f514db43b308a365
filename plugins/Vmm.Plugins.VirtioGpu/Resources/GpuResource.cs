namespace Vmm.Plugins.VirtioGpu.Resources;

/// <summary>A guest resource: a classic 2D resource or a blob. The id space is shared.</summary>
internal abstract class GpuResource
{
    protected GpuResource(uint id)
    {
        Id = id;
    }

    public uint Id { get; }

    /// <summary>The bytes this resource counts against the configured resource memory limit.</summary>
    public abstract long ChargedBytes { get; }
}
