using System.Diagnostics.CodeAnalysis;

namespace Vmm.Plugins.VirtioGpu.Resources;

/// <summary>The guest's resources by id, with the count and byte limits that keep a guest from exhausting the host.</summary>
internal sealed class ResourceTable
{
    private readonly Dictionary<uint, GpuResource2D> _resources = [];
    private readonly int _maxResources;
    private readonly long _maxBytes;

    public ResourceTable(int maxResources, long maxBytes)
    {
        _maxResources = maxResources;
        _maxBytes = maxBytes;
    }

    public int Count => _resources.Count;

    public long Bytes { get; private set; }

    public bool Contains(uint id) => _resources.ContainsKey(id);

    public bool TryGet(uint id, [NotNullWhen(true)] out GpuResource2D? resource) => _resources.TryGetValue(id, out resource);

    /// <summary>Whether one more resource of <paramref name="bytes"/> fits the limits (and a .NET array).</summary>
    public bool CanAdd(ulong bytes)
        => _resources.Count < _maxResources && bytes <= (ulong)Array.MaxLength && (long)bytes <= _maxBytes - Bytes;

    public void Add(GpuResource2D resource)
    {
        _resources.Add(resource.Id, resource);
        Bytes += resource.Pixels.LongLength;
    }

    public bool Remove(uint id)
    {
        if (!_resources.Remove(id, out GpuResource2D? resource))
        {
            return false;
        }

        Bytes -= resource.Pixels.LongLength;
        return true;
    }

    public void Clear()
    {
        _resources.Clear();
        Bytes = 0;
    }
}
