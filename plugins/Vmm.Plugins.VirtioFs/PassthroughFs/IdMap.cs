namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>
/// Translates user or group ids between guest and host by ranges (guest, host, count). Without ranges ids pass
/// through unchanged. A host id with no guest id shows as the overflow id 65534.
/// </summary>
internal sealed class IdMap
{
    public const uint OverflowId = 65534;

    private readonly (uint Guest, uint Host, uint Count)[] _ranges;

    public IdMap(IEnumerable<VirtioFsIdMapping> ranges)
    {
        _ranges = [.. ranges.Select(r => (r.Guest, r.Host, r.Count))];
    }

    public bool IsIdentity => _ranges.Length == 0;

    public uint ToGuest(uint host)
    {
        if (IsIdentity)
        {
            return host;
        }

        foreach ((uint guest, uint hostStart, uint count) in _ranges)
        {
            if (host >= hostStart && host - hostStart < count)
            {
                return guest + (host - hostStart);
            }
        }

        return OverflowId;
    }

    /// <summary>Maps a guest id to the host; false when no range covers it.</summary>
    public bool TryToHost(uint guest, out uint host)
    {
        if (IsIdentity)
        {
            host = guest;
            return true;
        }

        foreach ((uint guestStart, uint hostStart, uint count) in _ranges)
        {
            if (guest >= guestStart && guest - guestStart < count)
            {
                host = hostStart + (guest - guestStart);
                return true;
            }
        }

        host = 0;
        return false;
    }
}
