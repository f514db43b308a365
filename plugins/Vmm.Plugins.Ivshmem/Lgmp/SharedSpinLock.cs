using System.Diagnostics;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Lgmp;

/// <summary>
/// LGMP's u32 spin-locks in shared memory (<c>lock</c>, <c>cMsgLock</c>): CAS 0 to 1 takes, a release store of 0
/// frees. An honest peer holds one for a few hundred nanoseconds; a peer that died or is hostile may hold it forever,
/// so every wait here is bounded by <see cref="MaxWait"/>.
/// </summary>
internal static class SharedSpinLock
{
    /// <summary>How long a lock may stay taken by another process before it is treated as abandoned.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(20);

    /// <summary>Takes the lock once without waiting.</summary>
    public static bool TryEnter(SharedRegion region, long offset) => region.CompareExchangeU32(offset, 1, 0) == 0;

    /// <summary>Takes the lock, waiting at most <see cref="MaxWait"/>; false when it stayed taken.</summary>
    public static bool Enter(SharedRegion region, long offset)
    {
        if (TryEnter(region, offset))
        {
            return true;
        }

        long start = Stopwatch.GetTimestamp();
        var spin = default(SpinWait);
        while (!TryEnter(region, offset))
        {
            if (Stopwatch.GetElapsedTime(start) > MaxWait)
            {
                return false;
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }

        return true;
    }

    /// <summary>
    /// The host's take: waits at most <see cref="MaxWait"/>, then takes the lock anyway. The host owns the layout and
    /// must go on (heartbeat, posts) even if a client crashed or is hostile while holding it.
    /// </summary>
    public static void EnterOrSteal(SharedRegion region, long offset)
    {
        if (!Enter(region, offset))
        {
            region.StoreReleaseU32(offset, 1);
        }
    }

    /// <summary>Frees the lock (a release store, so the guarded writes are visible first).</summary>
    public static void Exit(SharedRegion region, long offset) => region.StoreReleaseU32(offset, 0);
}
