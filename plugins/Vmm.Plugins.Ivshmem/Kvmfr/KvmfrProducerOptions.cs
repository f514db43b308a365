namespace Vmm.Plugins.Ivshmem.Kvmfr;

/// <summary>How a <see cref="KvmfrProducer"/> sets up and paces itself.</summary>
internal sealed record KvmfrProducerOptions
{
    /// <summary>The version string the client shows (at most 31 bytes are kept).</summary>
    public string HostVersion { get; init; } = "vmm";

    /// <summary>The VMINFO record, or null for none.</summary>
    public KvmfrVmInfo? VmInfo { get; init; }

    /// <summary>The OSINFO record, or null for none.</summary>
    public KvmfrOsInfo? OsInfo { get; init; } = new(KvmfrOs.Linux, "vmm");

    /// <summary>
    /// Whether to advertise <c>KVMFR_FEATURE_SETCURSORPOS</c>. The producer then reads and acks the client's
    /// requests on its heartbeat and raises <see cref="KvmfrProducer.CursorPositionRequested"/>.
    /// </summary>
    public bool SetCursorPosition { get; init; }

    /// <summary>
    /// <c>maxTime</c> of both queues: a subscriber holding the oldest message longer is marked BAD (B7: 1000 ms;
    /// a larger value spares a slow client's cold start, and the real client honours it).
    /// </summary>
    public TimeSpan SubscriberTimeout { get; init; } = TimeSpan.FromMilliseconds(1000);

    /// <summary>The heartbeat period (B7: 10 ms; must stay well under the client's 200 ms startup gate).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Whether the producer runs its heartbeat on its own thread; false for tests that call <see cref="KvmfrProducer.Heartbeat"/>.</summary>
    public bool HeartbeatThread { get; init; } = true;

    /// <summary>
    /// The longest <see cref="KvmfrProducer.SubmitFrame"/> waits for a shm buffer still held by a subscriber before
    /// it defers the frame (keeping its damage).
    /// </summary>
    public TimeSpan MaxFrameWait { get; init; } = TimeSpan.FromMilliseconds(8);

    /// <summary>The largest cursor side in pixels (B7: 512); sets the size of the three shape buffers.</summary>
    public int MaxCursorDimension { get; init; } = KvmfrProtocol.MaxCursorDimension;
}

/// <summary>What <see cref="KvmfrProducer.SubmitFrame"/> did with a frame.</summary>
internal enum KvmfrSubmitResult
{
    /// <summary>Written into shared memory and posted to every live subscriber (or to none when there is none).</summary>
    Posted,

    /// <summary>
    /// Not written: the buffer it needs is still held by a subscriber. Its damage is kept; submit again (the same
    /// image or a newer one) so the client does not stay on an older picture.
    /// </summary>
    Deferred,

    /// <summary>Refused: the format is not a 4-byte-per-pixel type, a size is not positive, or the pixels are too short.</summary>
    Invalid,
}
