namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>FUSE file handle → open handle. Handles come from a counter and are never reused; the table is bounded.</summary>
internal sealed class HandleTable(int limit) : IDisposable
{
    private readonly Dictionary<ulong, OpenHandle> _handles = [];
    private ulong _next = 1;

    public int Count => _handles.Count;

    /// <summary>Adds <paramref name="handle"/>; returns 0 (and closes it) when the table is full.</summary>
    public ulong Add(OpenHandle handle)
    {
        if (_handles.Count >= limit)
        {
            handle.Dispose();
            return 0;
        }

        ulong id = _next++;
        _handles.Add(id, handle);
        return id;
    }

    public bool TryGet(ulong id, out OpenHandle handle) => _handles.TryGetValue(id, out handle!);

    public bool Remove(ulong id)
    {
        if (!_handles.Remove(id, out OpenHandle? handle))
        {
            return false;
        }

        handle.Dispose();
        return true;
    }

    public void Clear()
    {
        foreach (OpenHandle handle in _handles.Values)
        {
            handle.Dispose();
        }

        _handles.Clear();
    }

    public void Dispose() => Clear();
}
