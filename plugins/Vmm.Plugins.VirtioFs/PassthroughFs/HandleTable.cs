namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>
/// FUSE file handle → open handle. Handles come from a counter and are never reused; the table is bounded.
/// Thread-safe: every queue's session uses it; the lock is never held across file I/O.
/// </summary>
internal sealed class HandleTable(int limit) : IDisposable
{
    private readonly Dictionary<ulong, OpenHandle> _handles = [];
    private readonly Lock _sync = new();
    private ulong _next = 1;

    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _handles.Count;
            }
        }
    }

    /// <summary>Adds <paramref name="handle"/>; returns 0 (and closes it) when the table is full.</summary>
    public ulong Add(OpenHandle handle)
    {
        lock (_sync)
        {
            if (_handles.Count < limit)
            {
                ulong id = _next++;
                _handles.Add(id, handle);
                return id;
            }
        }

        handle.Dispose();
        return 0;
    }

    /// <summary>
    /// Finds a handle. Its file stays usable while a system call runs on it even if another queue releases it
    /// meanwhile (SafeHandle counts the call); a later use of a released handle throws ObjectDisposedException.
    /// </summary>
    public bool TryGet(ulong id, out OpenHandle handle)
    {
        lock (_sync)
        {
            return _handles.TryGetValue(id, out handle!);
        }
    }

    public bool Remove(ulong id)
    {
        OpenHandle? handle;
        lock (_sync)
        {
            if (!_handles.Remove(id, out handle))
            {
                return false;
            }
        }

        handle.Dispose();
        return true;
    }

    public void Clear()
    {
        OpenHandle[] all;
        lock (_sync)
        {
            all = [.. _handles.Values];
            _handles.Clear();
        }

        foreach (OpenHandle handle in all)
        {
            handle.Dispose();
        }
    }

    public void Dispose() => Clear();
}
