using System.Diagnostics.CodeAnalysis;

namespace Vmm.Plugins.VirtioGpu.Resources;

/// <summary>The guest's resources by id, with the count and byte limits that keep a guest from exhausting the host.</summary>
internal sealed class ResourceTable
{
    private readonly Dictionary<uint, GpuResource> _resources = [];
    private readonly int _maxResources;
    private readonly long _maxBytes;

    public ResourceTable(int maxResources, long maxBytes)
    {
        _maxResources = maxResources;
        _maxBytes = maxBytes;
    }

    public int Count => _resources.Count;

    public long Bytes { get; private set; }

    public IEnumerable<GpuResource> All => _resources.Values;

    public bool Contains(uint id) => _resources.ContainsKey(id);

    /// <summary>Finds resource <paramref name="id"/> when it is a <typeparamref name="T"/>.</summary>
    public bool TryGet<T>(uint id, [NotNullWhen(true)] out T? resource)
        where T : GpuResource
    {
        if (_resources.TryGetValue(id, out GpuResource? found) && found is T typed)
        {
            resource = typed;
            return true;
        }

        resource = null;
        return false;
    }

    /// <summary>Whether one more resource of <paramref name="bytes"/> fits the limits (and a .NET array).</summary>
    public bool CanAdd(ulong bytes) => bytes <= (ulong)Array.MaxLength && CanCharge(bytes);

    /// <summary>Whether one more resource charging <paramref name="bytes"/> (host memory or guest pages) fits the limits.</summary>
    public bool CanCharge(ulong bytes) => _resources.Count < _maxResources && bytes <= (ulong)(_maxBytes - Bytes);

    public void Add(GpuResource resource)
    {
        _resources.Add(resource.Id, resource);
        Bytes += resource.ChargedBytes;
    }

    public bool Remove(uint id, [NotNullWhen(true)] out GpuResource? resource)
    {
        if (!_resources.Remove(id, out resource))
        {
            return false;
        }

        Bytes -= resource.ChargedBytes;
        return true;
    }

    public void Clear()
    {
        _resources.Clear();
        Bytes = 0;
    }
}
