using System.Buffers.Binary;
using Vmm.Contracts.Virtio;
using Vmm.Testing.Virtio;
using static Vmm.Plugins.CrossDomain.Testing.CrossDomainCommands;

namespace Vmm.Plugins.CrossDomain.Testing;

/// <summary>
/// One cross-domain context as muvm-x11bridge drives it through Linux's virtio-gpu driver: CTX_CREATE(capset 5), two
/// 4 KiB guest-blob rings attached to the context, INIT, one ring-1-fenced POLL outstanding, SEND for bytes to the
/// host, and the channel ring read back each time the POLL fence signals. Every command is built by
/// <see cref="CrossDomainCommands"/>. A channel may be used by two threads at once: one sending, one taking messages.
/// </summary>
public sealed class CrossDomainChannel : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    /// <summary>How many forwarded SENDs one channel keeps in flight; one client cannot take the whole control queue.</summary>
    private const int MaxForwardsInFlight = 32;

    private readonly List<byte> _stream = [];
    private readonly Queue<PendingRequest> _forwarded = new();
    private PendingRequest? _poll;
    private int _destroyed;

    /// <summary>Takes a context id and two ring resource ids from <paramref name="gpu"/>; nothing is sent yet.</summary>
    public CrossDomainChannel(CrossDomainGuestGpu gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        Gpu = gpu;
        ContextId = gpu.NewContextId();
        QueryRingId = gpu.NewResourceId();
        ChannelRingId = gpu.NewResourceId();
        QueryRing = gpu.Machine.AllocateBuffer(4096);
        ChannelRing = gpu.Machine.AllocateBuffer(4096);
    }

    /// <summary>The device this context lives on.</summary>
    public CrossDomainGuestGpu Gpu { get; }

    /// <summary>This context's id.</summary>
    public uint ContextId { get; }

    /// <summary>The query ring's resource id.</summary>
    public uint QueryRingId { get; }

    /// <summary>The channel ring's resource id.</summary>
    public uint ChannelRingId { get; }

    /// <summary>The query ring's guest memory.</summary>
    public GuestBuffer QueryRing { get; }

    /// <summary>The channel ring's guest memory.</summary>
    public GuestBuffer ChannelRing { get; }

    /// <summary>Whether CTX_DESTROY was sent.</summary>
    public bool IsDestroyed => Volatile.Read(ref _destroyed) != 0;

    /// <summary>The identifiers (id, type, size) of every RECEIVE <see cref="Pump"/> filed so far, oldest first.</summary>
    public Queue<(uint Id, uint Type, uint Size)> ReceivedIdentifiers { get; } = new();

    /// <summary>The ids of every FUTEX_SIGNAL the host sent so far, oldest first.</summary>
    public Queue<uint> FutexSignals { get; } = new();

    /// <summary>Every READ (identifier, hang_up, data) the host sent so far, oldest first.</summary>
    public Queue<(uint Id, bool HangUp, byte[] Data)> Reads { get; } = new();

    /// <summary>CTX_CREATE(capset 5), both rings as guest blobs attached to the context, INIT, and the first POLL.</summary>
    /// <exception cref="CrossDomainGuestException">The device refused a step (e.g. an unconfigured channel).</exception>
    public void Open(uint channelType)
    {
        Expect(OkNoData, Gpu.ControlType(CreateContext(ContextId, CapsetCrossDomain)), "CTX_CREATE");
        AttachRings();
        Expect(OkNoData, Submit(Init(QueryRingId, ChannelRingId, channelType)), "INIT");
        Poll();
    }

    /// <summary>Creates both rings as guest blobs and attaches them to the context.</summary>
    public void AttachRings()
    {
        foreach ((uint id, GuestBuffer ring) in new[] { (QueryRingId, QueryRing), (ChannelRingId, ChannelRing) })
        {
            Expect(OkNoData, Gpu.ControlType(CreateGuestBlob(id, ring.Address, ring.Length)), "RESOURCE_CREATE_BLOB(ring)");
            Expect(OkNoData, Gpu.ControlType(AttachResource(ContextId, id)), "CTX_ATTACH_RESOURCE(ring)");
        }
    }

    /// <summary>Posts SUBMIT_3D(POLL) fenced on ring 1; its answer comes when the host has a message.</summary>
    public void Poll() => _poll = Gpu.Post(Submit3d(ContextId, CrossDomainCommands.Poll(), flags: 3, fence: Gpu.NewFence(), ring: 1));

    /// <summary>SUBMIT_3D of <paramref name="stream"/> (no fence); returns the response type.</summary>
    public uint Submit(ReadOnlySpan<byte> stream) => Gpu.ControlType(Submit3d(ContextId, stream));

    /// <summary>SENDs <paramref name="data"/> in chunks of at most <see cref="CrossDomainCommands.MaxSendData"/> bytes with no identifiers.</summary>
    /// <exception cref="CrossDomainGuestException">The host refused a SEND (its socket is gone).</exception>
    public void Send(ReadOnlySpan<byte> data) => Send(data, []);

    /// <summary>
    /// SENDs <paramref name="data"/> in chunks of at most <see cref="CrossDomainCommands.MaxSendData"/> bytes; <paramref name="identifiers"/> travel with the
    /// first chunk (the host attaches their fds to its first byte).
    /// </summary>
    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<(uint Id, uint Type)> identifiers)
    {
        // Chunks are posted back to back and waited for together: the control queue keeps their order, and the
        // device works on the next while the guest writes the one after.
        var posted = new List<PendingRequest>();
        int offset = 0;
        do
        {
            ReadOnlySpan<byte> chunk = data.Slice(offset, Math.Min(MaxSendData, data.Length - offset));
            posted.Add(Gpu.Post(Submit3d(ContextId, SendMessage(chunk, offset == 0 ? identifiers : []))));
            offset += chunk.Length;
        }
        while (offset < data.Length);
        foreach (PendingRequest request in posted)
        {
            Expect(OkNoData, ResponseType(request.Wait(s_timeout)), "SEND");
        }
    }

    /// <summary>
    /// SENDs <paramref name="data"/> as <see cref="Send(ReadOnlySpan{byte}, ReadOnlySpan{ValueTuple{uint, uint}})"/>
    /// does but does not wait for the device's answers, as Linux's EXECBUFFER returns before the device answers
    /// the SUBMIT_3D (muvm-x11bridge forwards this way). A refusal of an earlier forward is reported by a later
    /// call; at most 32 forwards are in flight (the oldest is waited for first). One thread forwards at a time.
    /// </summary>
    /// <exception cref="CrossDomainGuestException">The host refused an earlier forward (its socket is gone), or the device was reset.</exception>
    public void Forward(ReadOnlySpan<byte> data, ReadOnlySpan<(uint Id, uint Type)> identifiers)
    {
        int offset = 0;
        do
        {
            while (_forwarded.TryPeek(out PendingRequest? oldest) && (oldest.IsCompleted || _forwarded.Count >= MaxForwardsInFlight))
            {
                Expect(OkNoData, ResponseType(_forwarded.Dequeue().Wait(s_timeout)), "SEND");
            }

            ReadOnlySpan<byte> chunk = data.Slice(offset, Math.Min(MaxSendData, data.Length - offset));
            _forwarded.Enqueue(Gpu.Post(Submit3d(ContextId, SendMessage(chunk, offset == 0 ? identifiers : []))));
            offset += chunk.Length;
        }
        while (offset < data.Length);
    }

    /// <summary>Waits for the POLL fence, returns the channel ring's message and posts the next POLL.</summary>
    /// <exception cref="CrossDomainGuestException">Nothing came in time, the context was destroyed, or the device reset.</exception>
    public byte[] WaitForMessage() => TryWaitForMessage(s_timeout) ?? throw new CrossDomainGuestException("the channel's POLL came back without a message (context destroyed or device reset)");

    /// <summary>
    /// Waits for the POLL fence; returns the channel ring's message and posts the next POLL, or null when the POLL
    /// came back because the context was destroyed or the device reset.
    /// </summary>
    /// <exception cref="CrossDomainGuestException">Nothing came back within <paramref name="timeout"/>.</exception>
    public byte[]? TryWaitForMessage(TimeSpan timeout)
    {
        PendingRequest poll = _poll ?? throw new InvalidOperationException("No POLL is outstanding.");
        if (!poll.TryWait(timeout))
        {
            throw new CrossDomainGuestException($"the channel had no message within {timeout}");
        }

        _poll = null;
        if (poll.Answer is null || IsDestroyed)
        {
            return null;
        }

        Span<byte> ring = Gpu.Machine.Memory.GetSpan(ChannelRing.Address, 4096);
        int size = BinaryPrimitives.ReadUInt16LittleEndian(ring[2..]);
        if (size < 8 || size > 4096)
        {
            throw new CrossDomainGuestException($"the host wrote a message of {size} bytes into the channel ring");
        }

        byte[] message = ring[..size].ToArray();

        // The next POLL goes out before the caller handles this message: the device and the context take it while
        // the client reads its reply, not after the client's next request.
        Poll();
        return message;
    }

    /// <summary>Reads RECEIVE messages until <paramref name="count"/> bytes of stream data came (the rest is kept).</summary>
    public byte[] Receive(int count)
    {
        while (_stream.Count < count)
        {
            Pump();
        }

        byte[] taken = [.. _stream.GetRange(0, count)];
        _stream.RemoveRange(0, count);
        return taken;
    }

    /// <summary>Reads messages until the host signalled futex <paramref name="id"/> (other messages are kept).</summary>
    public void WaitForFutexSignal(uint id)
    {
        while (!FutexSignals.Contains(id))
        {
            Pump();
        }

        Queue<uint> rest = new(FutexSignals.Where(signalled => signalled != id));
        FutexSignals.Clear();
        foreach (uint other in rest)
        {
            FutexSignals.Enqueue(other);
        }
    }

    /// <summary>Reads messages until a READ came; returns the oldest.</summary>
    public (uint Id, bool HangUp, byte[] Data) WaitForRead()
    {
        while (Reads.Count == 0)
        {
            Pump();
        }

        return Reads.Dequeue();
    }

    /// <summary>Takes one channel-ring message and files it: RECEIVE into the stream, FUTEX_SIGNAL and READ into their queues.</summary>
    /// <exception cref="CrossDomainGuestException">The host closed the channel, or wrote something a guest never expects.</exception>
    public void Pump()
    {
        byte[] message = WaitForMessage();
        switch (message[0])
        {
            case CmdReceive:
                ChannelMessage.Receive receive = ChannelMessage.ParseReceive(message);
                if (receive.Data.Length == 0)
                {
                    throw new CrossDomainGuestException("the host closed the channel (RECEIVE with no data)");
                }

                foreach ((uint Id, uint Type, uint Size) identifier in receive.Identifiers)
                {
                    ReceivedIdentifiers.Enqueue(identifier);
                }

                _stream.AddRange(receive.Data);
                break;
            case CmdFutexSignal when message.Length == 16:
                FutexSignals.Enqueue(BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(8)));
                break;
            case CmdRead:
                ChannelMessage.Read read = ChannelMessage.ParseRead(message);
                Reads.Enqueue((read.Id, read.HangUp, read.Data));
                break;
            default:
                throw new CrossDomainGuestException($"the host wrote command {message[0]} ({message.Length} bytes) into the channel ring");
        }
    }

    /// <summary>Whether the outstanding POLL came back (after a CTX_DESTROY or reset it must).</summary>
    public bool PollReturned(TimeSpan timeout) => _poll is PendingRequest poll && poll.TryWait(timeout);

    /// <summary>Sends CTX_DESTROY once; the host closes the socket, pipes, blobs and futexes and returns the POLL.</summary>
    public uint Destroy()
    {
        if (Interlocked.Exchange(ref _destroyed, 1) != 0)
        {
            return OkNoData;
        }

        return Gpu.ControlType(DestroyContext(ContextId));
    }

    /// <summary>Destroys the context.</summary>
    public void Dispose()
    {
        try
        {
            Destroy();
        }
        catch (CrossDomainGuestException)
        {
            // The device was reset or is gone: nothing is left to destroy.
        }
    }

    internal static void Expect(uint expected, uint actual, string what)
    {
        if (expected != actual)
        {
            throw new CrossDomainGuestException($"{what} was answered 0x{actual:x4}, not 0x{expected:x4}");
        }
    }
}
