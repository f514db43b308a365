using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Vmm.Contracts.Virtio;

namespace Vmm.Core.Virtio.Queues;

/// <summary>Throw helpers for the queue's hot path, so message building stays out of the inlined code.</summary>
internal static class VirtqueueErrors
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(int queue, string what) => throw new VirtioProtocolException($"Virtqueue {queue} {what}.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowAvailableIndexJump(int queue, ushort jump, int size) =>
        throw new VirtioProtocolException($"Virtqueue {queue}: available index jumped by {jump}, more than the queue size {size}.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowDescriptorIndex(int queue, ushort index, int size) =>
        throw new VirtioProtocolException($"Virtqueue {queue}: descriptor index {index} is not below the queue size {size}.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowTooManyInFlight(int queue, int size) =>
        throw new VirtioProtocolException($"Virtqueue {queue}: the driver made more than {size} requests available at once.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowHeadInFlight(int queue, ushort head) =>
        throw new VirtioProtocolException($"Virtqueue {queue}: the driver made descriptor {head} available again before the device used it.");
}
