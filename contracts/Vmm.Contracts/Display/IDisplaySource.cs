using Vmm.Contracts.Devices;

namespace Vmm.Contracts.Display;

/// <summary>
/// Something that produces frames: a virtio-gpu scanout, an IVSHMEM (KVMFR) capture. The display router is its
/// one consumer and fans frames out to the sinks.
/// </summary>
public interface IDisplaySource : IDevice
{
    /// <summary>The current mode, or null before the guest set one.</summary>
    DisplayMode? CurrentMode { get; }

    /// <summary>Starts publishing to <paramref name="sink"/> (the router); a mode and a full frame follow when known.</summary>
    void Connect(IDisplaySink sink);

    /// <summary>Stops publishing to the connected sink.</summary>
    void Disconnect();
}
