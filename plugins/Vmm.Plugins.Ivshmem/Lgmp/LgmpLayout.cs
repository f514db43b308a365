namespace Vmm.Plugins.Ivshmem.Lgmp;

/// <summary>
/// LGMP protocol constants of Looking Glass B7 (LGMP <c>de89c63</c>, protocol version 6). Both sides check the
/// version for exact equality, so these must never follow LGMP's newer (incompatible) layouts.
/// </summary>
internal static class LgmpProtocol
{
    /// <summary><c>LGMP_PROTOCOL_MAGIC</c>: "LGMP" as little-endian bytes.</summary>
    public const uint Magic = 0x504d474c;

    /// <summary><c>LGMP_PROTOCOL_VERSION</c> of B7.</summary>
    public const uint Version = 6;

    /// <summary><c>LGMP_MAX_QUEUES</c>.</summary>
    public const int MaxQueues = 5;

    /// <summary><c>LGMP_MSGS_MAX</c>: client-to-host ring slots per queue.</summary>
    public const int ClientMessageSlots = 10;

    /// <summary><c>LGMP_MSGS_SIZE</c>: the largest client-to-host message.</summary>
    public const int ClientMessageMaxSize = 64;

    /// <summary>Subscribers per queue: one bit each in the ON and BAD halves of <c>subs</c>.</summary>
    public const int MaxSubscribers = 32;

    /// <summary><c>LGMP_HEARTBEAT_TIMEOUT</c>: a client gives the host up after this long without a timestamp change.</summary>
    public const int HeartbeatTimeoutMs = 1000;

    /// <summary>How long the B7 client waits after init before it requires the timestamp to have moved.</summary>
    public const int StartupWaitMs = 200;

    /// <summary>The host's default allocation alignment (<c>ALIGN(x) = (x+3)&amp;~3</c>).</summary>
    public const int DefaultAlignment = 4;
}

/// <summary>
/// <c>struct LGMPHeader</c> (v6), sizeof 5760, at offset 0 of the shared memory:
/// <code>
///   0 u32 magic            4 u32 version        8 u32 sessionID     12 pad
///  16 u64 timestamp (atomic, host ms; the heartbeat)
///  24 u32 numQueues       28 pad
///  32 LGMPHeaderQueue queues[5]   (stride 1144)
/// 5752 u32 udataSize   5756 u8 udata[udataSize]
/// </code>
/// The first allocation starts at <c>ALIGN4(5760 + udataSize)</c>, not at the end of udata.
/// </summary>
internal static class LgmpHeaderLayout
{
    public const int Magic = 0;
    public const int Version = 4;
    public const int SessionId = 8;
    public const int Timestamp = 16;
    public const int NumQueues = 24;
    public const int Queues = 32;
    public const int QueueStride = LgmpQueueLayout.Size;
    public const int UdataSize = 5752;
    public const int Udata = 5756;

    /// <summary><c>sizeof(struct LGMPHeader)</c> (the trailing udata is a flexible array).</summary>
    public const int Size = 5760;

    /// <summary>The offset of queue <paramref name="index"/>'s header.</summary>
    public static long Queue(int index) => Queues + ((long)QueueStride * index);
}

/// <summary>
/// <c>struct LGMPHeaderQueue</c> (v6), sizeof 1144, offsets relative to the queue:
/// <code>
///   0 u32 queueID      4 u32 numMessages (requested + 1)   8 u32 newSubCount (atomic)   12 u32 maxTime (ms)
///  16 u32 position (atomic, host write index)              20 u32 messagesOffset (from the shm base)
///  24 u64 timeout[32]     280 u32 clientID[32]     408 u32 lock (CAS 0->1)     412 pad
/// 416 u64 subs (atomic; high 32 = ON, low 32 = BAD)        424 u32 start        428 pad
/// 432 u64 msgTimeout (atomic)   440 u32 count (atomic)     444 u32 cMsgLock     448 u32 cMsgAvail
/// 452 u32 cMsgWPos   456 u32 cMsgWSerial   460 u32 cMsgRSerial   464 LGMPClientMessage cMsgs[10] (68 B each)
/// </code>
/// </summary>
internal static class LgmpQueueLayout
{
    public const int QueueId = 0;
    public const int NumMessages = 4;
    public const int NewSubCount = 8;
    public const int MaxTime = 12;
    public const int Position = 16;
    public const int MessagesOffset = 20;
    public const int Timeout = 24;
    public const int ClientId = 280;
    public const int Lock = 408;
    public const int Subs = 416;
    public const int Start = 424;
    public const int MsgTimeout = 432;
    public const int Count = 440;
    public const int ClientMessageLock = 444;
    public const int ClientMessageAvailable = 448;
    public const int ClientMessageWritePosition = 452;
    public const int ClientMessageWriteSerial = 456;
    public const int ClientMessageReadSerial = 460;
    public const int ClientMessages = 464;

    /// <summary><c>sizeof(struct LGMPHeaderQueue)</c>.</summary>
    public const int Size = 1144;

    /// <summary>The offset of subscriber <paramref name="id"/>'s u64 reap deadline.</summary>
    public static int TimeoutOf(int id) => Timeout + (8 * id);

    /// <summary>The offset of subscriber <paramref name="id"/>'s u32 client ID.</summary>
    public static int ClientIdOf(int id) => ClientId + (4 * id);

    /// <summary>The offset of client-to-host ring slot <paramref name="slot"/>.</summary>
    public static int ClientMessageOf(int slot) => ClientMessages + (LgmpClientMessageLayout.Size * slot);

    /// <summary>The ON (subscribed) bits of a <c>subs</c> word.</summary>
    public static uint On(ulong subs) => (uint)(subs >> 32);

    /// <summary>The BAD (timed out) bits of a <c>subs</c> word.</summary>
    public static uint Bad(ulong subs) => (uint)subs;

    /// <summary><c>subs</c> with the ON bits of <paramref name="bits"/> set.</summary>
    public static ulong SetOn(ulong subs, uint bits) => subs | ((ulong)bits << 32);

    /// <summary><c>subs</c> with both the ON and BAD bits of <paramref name="bits"/> cleared.</summary>
    public static ulong Clear(ulong subs, uint bits) => subs & ~(bits | ((ulong)bits << 32));

    /// <summary><c>subs</c> with the BAD bits of <paramref name="bits"/> set.</summary>
    public static ulong SetBad(ulong subs, uint bits) => subs | bits;
}

/// <summary>
/// <c>struct LGMPHeaderMessage</c>, 16 bytes, the ring element at <c>messagesOffset + 16 * slot</c>:
/// <code>
///  0 u32 udata (app value; KVMFR cursor flags)   4 u32 size   8 u32 offset (from the shm base)   12 u32 pendingSubs (atomic)
/// </code>
/// </summary>
internal static class LgmpMessageLayout
{
    public const int Udata = 0;
    public const int PayloadSize = 4;
    public const int PayloadOffset = 8;
    public const int PendingSubs = 12;

    /// <summary><c>sizeof(struct LGMPHeaderMessage)</c>.</summary>
    public const int Size = 16;
}

/// <summary><c>struct LGMPClientMessage</c>, 68 bytes: <c>0 u32 size</c>, <c>4 u8 data[64]</c>.</summary>
internal static class LgmpClientMessageLayout
{
    public const int DataSize = 0;
    public const int Data = 4;

    /// <summary><c>sizeof(struct LGMPClientMessage)</c>.</summary>
    public const int Size = 68;
}
