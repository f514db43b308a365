namespace Vmm.Plugins.VirtioFs;

/// <summary>A range of ids: guest ids [Guest, Guest+Count) are host ids [Host, Host+Count).</summary>
public sealed class VirtioFsIdMapping
{
    /// <summary>The first guest id.</summary>
    public uint Guest { get; set; }

    /// <summary>The first host id.</summary>
    public uint Host { get; set; }

    /// <summary>How many ids; at least 1.</summary>
    public uint Count { get; set; } = 1;
}
