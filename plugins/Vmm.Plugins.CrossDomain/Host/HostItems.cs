using Microsoft.Win32.SafeHandles;

namespace Vmm.Plugins.CrossDomain.Host;

/// <summary>What a host item id stands for.</summary>
internal enum HostItemKind
{
    /// <summary>A seekable file the host socket passed (memfd, dma-buf): the guest imports it once as a HOST3D blob.</summary>
    Blob,

    /// <summary>GET_IMAGE_REQUIREMENTS' answer: every HOST3D blob made from it is a new memfd of its size.</summary>
    ImageRequirements,

    /// <summary>A pipe's write end the host socket passed; the guest writes into it with WRITE.</summary>
    WritePipe,

    /// <summary>A pipe's read end whose write end the host sent for the guest; its data goes back as READ.</summary>
    ReadPipe,

    /// <summary>An eventfd the host socket passed; polled after READ_EVENTFD_NEW, written with WRITE.</summary>
    Eventfd,
}

/// <summary>One host item: a file and what it is for.</summary>
internal sealed class HostItem(HostItemKind kind, SafeFileHandle? file, ulong size) : IDisposable
{
    public HostItemKind Kind => kind;

    /// <summary>The file; null for image requirements, which allocate on use.</summary>
    public SafeFileHandle? File { get; private set; } = file;

    public ulong Size => size;

    /// <summary>Whether the worker polls it (read pipes always, eventfds after READ_EVENTFD_NEW).</summary>
    public bool Polled { get; set; } = kind == HostItemKind.ReadPipe;

    /// <summary>Takes the file away (it now belongs to a blob).</summary>
    public SafeFileHandle TakeFile()
    {
        SafeFileHandle taken = File ?? throw new InvalidOperationException("The item holds no file.");
        File = null;
        return taken;
    }

    public void Dispose() => File?.Dispose();
}

/// <summary>
/// A context's host items, keyed by the ids the guest sees. Ids are pre-incremented from 1 (the first is 2) as in
/// libkrun; read pipes use the guest-predicted ids above 0x8000_0000.
/// </summary>
internal sealed class HostItems : IDisposable
{
    /// <summary>The most items one context may hold: a guest that never imports what it receives cannot grow it further.</summary>
    public const int MaxItems = 1024;

    private readonly Dictionary<uint, HostItem> _items = [];
    private uint _lastId = 1;
    private uint _lastReadPipeId = Protocol.CrossDomainLayout.ReadPipeIdBase;

    public int Count => _items.Count;

    public IEnumerable<KeyValuePair<uint, HostItem>> All => _items;

    /// <summary>Adds an item under the next host id; null when the table is full (the file is then closed).</summary>
    public uint? Add(HostItem item)
    {
        if (_items.Count >= MaxItems)
        {
            item.Dispose();
            return null;
        }

        uint id = ++_lastId;
        _items.Add(id, item);
        return id;
    }

    /// <summary>The read-pipe id the guest must name next (libkrun rejects any other).</summary>
    public uint NextReadPipeId => _lastReadPipeId + 1;

    /// <summary>Adds a read pipe's read end under <see cref="NextReadPipeId"/>.</summary>
    public bool TryAddReadPipe(SafeFileHandle readEnd)
    {
        if (_items.Count >= MaxItems)
        {
            return false;
        }

        _items.Add(++_lastReadPipeId, new HostItem(HostItemKind.ReadPipe, readEnd, 0));
        return true;
    }

    public bool TryGet(uint id, out HostItem item) => _items.TryGetValue(id, out item!);

    /// <summary>Removes and closes an item.</summary>
    public void Remove(uint id)
    {
        if (_items.Remove(id, out HostItem? item))
        {
            item.Dispose();
        }
    }

    /// <summary>Removes an item without closing it (its file moved elsewhere).</summary>
    public void Forget(uint id) => _items.Remove(id);

    public void Dispose()
    {
        foreach (HostItem item in _items.Values)
        {
            item.Dispose();
        }

        _items.Clear();
    }
}
