using System.Diagnostics;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Lgmp;

/// <summary>
/// LGMP's u32 spin-locks in shared memory (<c>lock</c>, <c>cMsgLock</c>): CAS 0 to 1 takes, a release store of 0
/// frees. An honest peer holds one for well under a microsecond unless it is preempted (on a loaded machine, for
/// tens of milliseconds); a peer that died or is hostile may hold it forever. So every wait here is bounded.
/// </summary>
internal static class SharedSpinLock
{
    /// <summary>How long a client waits for a lock before it gives the operation up.</summary>
    public static readonly TimeSpan ClientWait = TimeSpan.FromMilliseconds(200);

    /// <summary>Takes the lock once without waiting.</summary>
    public static bool TryEnter(SharedRegion region, long offset) => region.CompareExchangeU32(offset, 1, 0) == 0;

    /// <summary>Takes the lock, waiting at most <paramref name="maxWait"/>; false when it stayed taken.</summary>
    public static bool Enter(SharedRegion region, long offset, TimeSpan maxWait)
    {
        if (TryEnter(region, offset))
        {
            return true;
        }

        long start = Stopwatch.GetTimestamp();
        var spin = default(SpinWait);
        while (!TryEnter(region, offset))
        {
            if (Stopwatch.GetElapsedTime(start) > maxWait)
            {
                return false;
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }

        return true;
    }

    /// <summary>Takes the lock as a client: waits at most <see cref="ClientWait"/>.</summary>
    public static bool Enter(SharedRegion region, long offset) => Enter(region, offset, ClientWait);

    /// <summary>Frees the lock (a release store, so the guarded writes are visible first).</summary>
    public static void Exit(SharedRegion region, long offset) => region.StoreReleaseU32(offset, 0);
}

/// <summary>
/// The host's side of one shared lock. Host threads are serialised by the caller (a C# lock), so only clients compete
/// here. A take waits briefly and otherwise fails (the caller retries on its next post or heartbeat); a lock found
/// taken continuously for <see cref="AbandonedAfter"/> is stolen, since its holder died or is hostile and the host
/// must go on. Stealing sooner would let a merely preempted client and the host into the section together.
/// </summary>
internal sealed class HostSharedLock(SharedRegion region, long offset)
{
    /// <summary>How long one take waits.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(2);

    /// <summary>How long the lock must stay taken before the host steals it.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromSeconds(1);

    private long _blockedSince;

    /// <summary>Takes the lock, or steals an abandoned one; false when it is taken (try again later).</summary>
    public bool TryEnter()
    {
        if (SharedSpinLock.Enter(region, offset, Wait))
        {
            _blockedSince = 0;
            return true;
        }

        if (_blockedSince == 0)
        {
            _blockedSince = Stopwatch.GetTimestamp();
            return false;
        }

        if (Stopwatch.GetElapsedTime(_blockedSince) < AbandonedAfter)
        {
            return false;
        }

        region.StoreReleaseU32(offset, 1);
        _blockedSince = 0;
        return true;
    }

    /// <summary>Frees the lock.</summary>
    public void Exit() => SharedSpinLock.Exit(region, offset);
}
