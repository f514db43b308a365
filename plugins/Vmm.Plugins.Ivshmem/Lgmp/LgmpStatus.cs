namespace Vmm.Plugins.Ivshmem.Lgmp;

/// <summary>LGMP's <c>LGMP_STATUS</c>, the 18 values of B7 in their order (the numbers match the C enum).</summary>
internal enum LgmpStatus
{
    /// <summary>Success.</summary>
    Ok = 0,

    /// <summary>The clock could not be read.</summary>
    ErrClockFailure,

    /// <summary>An argument is out of range.</summary>
    ErrInvalidArgument,

    /// <summary>A size is wrong (memory too small, message too large).</summary>
    ErrInvalidSize,

    /// <summary>An alignment is not a power of two.</summary>
    ErrInvalidAlignment,

    /// <summary>No live session: the host is not running, restarted, or the header is not (yet) valid.</summary>
    ErrInvalidSession,

    /// <summary>Out of host-private memory.</summary>
    ErrNoMem,

    /// <summary>Out of shared memory for an allocation.</summary>
    ErrNoSharedMem,

    /// <summary>The host has already posted, so the layout can no longer change.</summary>
    ErrHostStarted,

    /// <summary>No more queues can be created.</summary>
    ErrNoQueues,

    /// <summary>The queue (or the subscriber slots, or the client ring) is full.</summary>
    ErrQueueFull,

    /// <summary>Nothing to read.</summary>
    ErrQueueEmpty,

    /// <summary>This client is no longer subscribed.</summary>
    ErrQueueUnsubscribed,

    /// <summary>This client held a message past <c>maxTime</c> and was marked BAD by the host.</summary>
    ErrQueueTimeout,

    /// <summary>The header's magic is wrong.</summary>
    ErrInvalidMagic,

    /// <summary>The header's version is not 6.</summary>
    ErrInvalidVersion,

    /// <summary>No queue has the requested ID.</summary>
    ErrNoSuchQueue,

    /// <summary>The shared memory holds values that break the protocol.</summary>
    ErrCorrupted,
}
