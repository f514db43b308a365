using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Memory;

namespace Vmm.Contracts.Virtio;

/// <summary>What an activated virtio device works with.</summary>
public interface IVirtioDeviceContext
{
    /// <summary>The features both sides agreed on.</summary>
    ulong NegotiatedFeatures { get; }

    /// <summary>Guest memory.</summary>
    IGuestMemory Memory { get; }

    /// <summary>The device's queues, by index. A queue the driver did not enable has <see cref="IVirtqueue.IsReady"/> false.</summary>
    IReadOnlyList<IVirtqueue> Queues { get; }

    /// <summary>
    /// Gets a shared-memory region the device asked for. False when the platform cannot map one (a vhost-user
    /// frontend that does not map backend memory): the device must then work without it.
    /// </summary>
    bool TryGetSharedMemory(byte id, [NotNullWhen(true)] out ISharedMemoryRegion? region);

    /// <summary>
    /// Asks the worker to call <see cref="IVirtioDevice.ProcessQueue"/> for <paramref name="queueIndex"/>. Safe from
    /// any thread; this is how host-side events (input, completed fences) reach a queue.
    /// </summary>
    void ScheduleQueue(int queueIndex);

    /// <summary>Tells the driver the device config changed (bumps config_generation, raises the config interrupt).</summary>
    void SignalConfigChanged();
}
