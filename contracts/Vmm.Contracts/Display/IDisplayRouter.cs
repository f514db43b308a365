namespace Vmm.Contracts.Display;

/// <summary>
/// Joins the active display source to its sinks; a host service plugins can depend on. Switching source or sinks
/// while the VM runs is what makes display transports swappable.
/// </summary>
public interface IDisplayRouter
{
    /// <summary>The active source's id, or null.</summary>
    string? ActiveSourceId { get; }

    /// <summary>The attached sinks' ids.</summary>
    IReadOnlyList<string> SinkIds { get; }

    /// <summary>Makes the source with id <paramref name="sourceId"/> the active one; sinks get its mode and a full frame.</summary>
    void SwitchSource(string sourceId);

    /// <summary>Attaches a sink to the active source.</summary>
    void AttachSink(string sinkId);

    /// <summary>Detaches a sink.</summary>
    void DetachSink(string sinkId);
}
