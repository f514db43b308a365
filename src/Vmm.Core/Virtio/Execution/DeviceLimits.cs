namespace Vmm.Core.Virtio.Execution;

/// <summary>
/// What one virtio device may take from the vmm process before its worker fails it (DEVICE_NEEDS_RESET): how long
/// one call may run, and how many file descriptors, threads and bytes of managed heap it may keep. Resources are
/// counted where they can be attributed, on the device's worker thread (see docs/fault-containment.md).
/// </summary>
public sealed record DeviceLimits
{
    /// <summary>The limits a device gets unless its config says otherwise.</summary>
    public static DeviceLimits Default { get; } = new();

    /// <summary>How long one call into the device may run before it is failed as hung (30 s).</summary>
    public TimeSpan Hang { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many file descriptors opened during the device's calls may stay open (4096, a fifth of a 20,000-descriptor
    /// process limit: one device cannot starve the others).
    /// </summary>
    public int FileDescriptors { get; init; } = 4096;

    /// <summary>How many threads started during the device's calls may stay alive (256).</summary>
    public int Threads { get; init; } = 256;

    /// <summary>
    /// How far the live managed heap may grow while the device allocated at least as much on its worker (1 GiB):
    /// a bound on what it can retain, since .NET does not say which code owns live objects.
    /// </summary>
    public long ManagedBytes { get; init; } = 1L << 30;

    /// <summary>
    /// One call in about this many has the process's descriptor and thread counts read before and after (256): a
    /// sample costs about 12 us on a loaded build machine (four statx calls, listings when the counts moved), so
    /// one in 256 adds about 50 ns to the average call. 1 lists them around every call (exact, about 0.15 ms a
    /// call). Activation and reset are always sampled.
    /// </summary>
    public int SampleEvery { get; init; } = 256;

    /// <summary>False only to measure what the counting costs (tools/bench): no descriptors, threads or memory are counted.</summary>
    internal bool Metered { get; init; } = true;

    /// <summary>Throws when a limit is not positive.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Hang, TimeSpan.Zero, nameof(Hang));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(FileDescriptors, nameof(FileDescriptors));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Threads, nameof(Threads));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ManagedBytes, nameof(ManagedBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SampleEvery, nameof(SampleEvery));
    }
}
