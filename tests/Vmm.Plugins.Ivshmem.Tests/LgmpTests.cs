using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Plugins.Ivshmem.SharedMemory;
using Vmm.Testing.Time;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>The LGMP v6 host and client against each other: sessions, subscriptions, posting, acks, timeouts, client data.</summary>
public sealed class LgmpTests : IDisposable
{
    private readonly SharedRegion _region = SharedRegion.AllocateNative(1 << 20);
    private readonly ManualTimeProvider _time = new();

    public void Dispose() => _region.Dispose();

    [Fact]
    public void HostWritesTheHeaderAndANewSessionIdEachTime()
    {
        byte[] udata = [1, 2, 3, 4, 5];
        Assert.Equal(LgmpStatus.Ok, LgmpHost.Create(_region, udata, _time, out LgmpHost? first));
        Assert.Equal(LgmpProtocol.Magic, _region.ReadU32(LgmpHeaderLayout.Magic));
        Assert.Equal(6u, _region.ReadU32(LgmpHeaderLayout.Version));
        Assert.Equal(first!.SessionId, _region.ReadU32(LgmpHeaderLayout.SessionId));
        Assert.Equal(5u, _region.ReadU32(LgmpHeaderLayout.UdataSize));
        Assert.Equal(udata, _region.GetReadOnlySpan(LgmpHeaderLayout.Udata, 5).ToArray());
        Assert.Equal(LgmpStatus.Ok, first.Allocate(1, 1, out LgmpMemory firstAllocation));
        Assert.Equal(5768u, firstAllocation.Offset); // ALIGN4(5760 + 5), not 5756 + 5

        for (int i = 0; i < 50; i++)
        {
            uint before = _region.ReadU32(LgmpHeaderLayout.SessionId);
            LgmpHost.Create(_region, udata, _time, out LgmpHost? next);
            Assert.NotEqual(before, next!.SessionId);
        }
    }

    [Fact]
    public void ClientNeedsTheHeartbeatToMoveAfterInit()
    {
        LgmpHost host = CreateHost();
        var client = new LgmpClient(_region, _time);
        Assert.Equal(LgmpStatus.Ok, client.Init());
        Assert.False(client.StartupWaitElapsed);
        _time.AdvanceMs(200);
        Assert.True(client.StartupWaitElapsed);
        byte[] udata = new byte[64];
        Assert.Equal(LgmpStatus.ErrInvalidSession, client.SessionInit(udata, out _)); // host alive but no heartbeat yet

        client.Init();
        _time.AdvanceMs(200);
        host.Process();
        Assert.Equal(LgmpStatus.Ok, client.SessionInit(udata, out int size));
        Assert.Equal(3, size);
        Assert.Equal(host.SessionId, client.SessionId);
        Assert.True(client.SessionValid());
    }

    [Fact]
    public void ClientRejectsWrongMagicAndVersion()
    {
        CreateHost();
        var client = new LgmpClient(_region, _time);
        client.Init();
        _region.WriteU32(LgmpHeaderLayout.Version, 5);
        Assert.Equal(LgmpStatus.ErrInvalidVersion, client.SessionInit(new byte[64], out _));
        _region.WriteU32(LgmpHeaderLayout.Magic, 0);
        Assert.Equal(LgmpStatus.ErrInvalidMagic, client.SessionInit(new byte[64], out _));
    }

    [Fact]
    public void SessionBecomesInvalidOnRestartOrAStoppedHeartbeat()
    {
        LgmpHost host = CreateHost();
        LgmpClient client = Join(host);
        _time.AdvanceMs(900);
        Assert.True(client.SessionValid());
        _time.AdvanceMs(200);
        Assert.False(client.SessionValid()); // 1100 ms without a timestamp change

        LgmpClient second = Join(host);
        LgmpHost.Create(_region, [1, 2, 3], _time, out _);
        Assert.False(second.SessionValid()); // a new session ID
    }

    [Fact]
    public void PostedMessagesReachEverySubscriberAndRetireWhenAllAck()
    {
        LgmpHost host = CreateHost();
        host.CreateQueue(7, 2, 1000, out LgmpHostQueue? queue);
        host.Allocate(64, 4, out LgmpMemory payload);
        LgmpClient a = Join(host);
        LgmpClient b = Join(host);
        Assert.Equal(LgmpStatus.Ok, a.Subscribe(7, out LgmpClientQueue? qa));
        Assert.Equal(LgmpStatus.Ok, b.Subscribe(7, out LgmpClientQueue? qb));
        Assert.Equal((0, 1), (qa!.Slot, qb!.Slot));
        Assert.Equal(2, queue!.TakeNewSubscribers());
        Assert.Equal(0, queue.TakeNewSubscribers());

        Assert.Equal(LgmpStatus.Ok, queue.Post(42, payload, out long first));
        Assert.Equal(LgmpStatus.Ok, queue.Post(43, payload, out long second));
        Assert.Equal(LgmpStatus.ErrQueueFull, queue.Post(44, payload, out _));
        Assert.Equal(2, queue.Pending);

        Assert.Equal(LgmpStatus.Ok, qa.Process(out LgmpMessage message));
        Assert.Equal(new LgmpMessage(42, payload.Offset, payload.Size), message);
        Assert.Equal(LgmpStatus.Ok, qa.MessageDone());
        Assert.False(queue.IsRetired(first)); // b still holds it
        qb.Process(out _);
        qb.MessageDone();
        Assert.True(queue.IsRetired(first)); // the last holder retired it
        Assert.False(queue.IsRetired(second));
        Assert.Equal(LgmpStatus.Ok, qa.AdvanceToLast());
        Assert.Equal(LgmpStatus.Ok, qa.Process(out message));
        Assert.Equal(43u, message.Udata);
        qa.MessageDone();
        qb.MessageDone();
        host.Process();
        Assert.True(queue.IsRetired(second));
        Assert.Equal(LgmpStatus.ErrQueueEmpty, qa.Process(out _));
    }

    [Fact]
    public void PostingWithoutSubscribersIsASilentNoOp()
    {
        LgmpHost host = CreateHost();
        host.CreateQueue(1, 2, 1000, out LgmpHostQueue? queue);
        host.Allocate(64, 4, out LgmpMemory payload);
        Assert.Equal(LgmpStatus.Ok, queue!.Post(1, payload, out long sequence));
        Assert.Equal(-1, sequence);
        Assert.Equal(0, queue.Pending);
        Assert.Equal(LgmpStatus.ErrHostStarted, host.CreateQueue(2, 2, 1000, out _));
    }

    [Fact]
    public void ASubscriberThatNeverAcksIsMarkedBadAndTheHostGoesOn()
    {
        LgmpHost host = CreateHost();
        host.CreateQueue(1, 2, 1000, out LgmpHostQueue? queue);
        host.Allocate(64, 4, out LgmpMemory payload);
        LgmpClient slow = Join(host);
        LgmpClient fast = Join(host);
        slow.Subscribe(1, out LgmpClientQueue? qSlow);
        fast.Subscribe(1, out LgmpClientQueue? qFast);
        queue!.Post(0, payload, out long sequence);
        qFast!.Process(out _);
        qFast.MessageDone();
        _time.AdvanceMs(999);
        host.Process();
        Assert.False(queue.IsRetired(sequence));
        _time.AdvanceMs(2);
        host.Process();
        Assert.True(queue.IsRetired(sequence));
        Assert.Equal(LgmpStatus.ErrQueueTimeout, qSlow!.Process(out _));
        Assert.Equal(LgmpStatus.ErrQueueEmpty, qFast.Process(out _));

        // The BAD slot is reaped by a later subscriber once its reap time passes in host time.
        LgmpClient late = Join(host);
        Assert.Equal(LgmpStatus.Ok, late.Subscribe(1, out LgmpClientQueue? qLate));
        Assert.Equal(2, qLate!.Slot);
        _time.AdvanceMs(1100);
        host.Process();
        LgmpClient later = Join(host);
        Assert.Equal(LgmpStatus.Ok, later.Subscribe(1, out LgmpClientQueue? qLater));
        Assert.Equal(0, qLater!.Slot);
    }

    [Fact]
    public void SubscribingNeedsTheQueueAndAFreeSlot()
    {
        LgmpHost host = CreateHost();
        LgmpClient client = Join(host);
        Assert.Equal(LgmpStatus.ErrNoSuchQueue, client.Subscribe(1, out _));
        host.CreateQueue(1, 2, 1000, out _);
        for (int i = 0; i < 32; i++)
        {
            Assert.Equal(LgmpStatus.Ok, client.Subscribe(1, out _));
        }

        Assert.Equal(LgmpStatus.ErrQueueFull, client.Subscribe(1, out LgmpClientQueue? none));
        Assert.Null(none);
    }

    [Fact]
    public void UnsubscribeFreesTheSlotAndStopsDelivery()
    {
        LgmpHost host = CreateHost();
        host.CreateQueue(1, 2, 1000, out LgmpHostQueue? queue);
        host.Allocate(64, 4, out LgmpMemory payload);
        LgmpClient client = Join(host);
        client.Subscribe(1, out LgmpClientQueue? q);
        Assert.Equal(LgmpStatus.Ok, q!.Unsubscribe());
        Assert.False(queue!.HasSubscribers);
        Assert.Equal(LgmpStatus.ErrQueueUnsubscribed, q.Process(out _));
        queue.Post(0, payload, out long sequence);
        Assert.Equal(-1, sequence);
    }

    [Fact]
    public void ClientDataReachesTheHostInOrderWithSerials()
    {
        LgmpHost host = CreateHost();
        host.CreateQueue(1, 2, 1000, out LgmpHostQueue? queue);
        LgmpClient client = Join(host);
        client.Subscribe(1, out LgmpClientQueue? q);
        Span<byte> read = stackalloc byte[64];
        Assert.Equal(LgmpStatus.ErrQueueEmpty, queue!.ReadData(read, out _));
        for (byte i = 1; i <= 10; i++)
        {
            Assert.Equal(LgmpStatus.Ok, q!.SendData([i, i, i], out uint serial));
            Assert.Equal(i, serial);
        }

        Assert.Equal(LgmpStatus.ErrQueueFull, q!.SendData([11], out _));
        Assert.Equal(LgmpStatus.ErrInvalidSize, q.SendData(new byte[65], out _));
        for (byte i = 1; i <= 10; i++)
        {
            Assert.Equal(LgmpStatus.Ok, queue.ReadData(read, out int length));
            Assert.Equal(new byte[] { i, i, i }, read[..length].ToArray());
            queue.AckData();
        }

        q.GetSerial(out uint handled);
        Assert.Equal(10u, handled);
        Assert.Equal(LgmpStatus.Ok, q.SendData([12], out uint next));
        Assert.Equal(11u, next);
    }

    [Fact]
    public void HostSurvivesAClientScribblingOnTheBookkeepingWords()
    {
        LgmpHost host = CreateHost();
        host.CreateQueue(1, 2, 1000, out LgmpHostQueue? queue);
        host.Allocate(64, 4, out LgmpMemory payload);
        long header = LgmpHeaderLayout.Queue(0);
        int[] words =
        [
            LgmpQueueLayout.NewSubCount, LgmpQueueLayout.Start, LgmpQueueLayout.Count, LgmpQueueLayout.ClientMessageAvailable,
            LgmpQueueLayout.ClientMessageWritePosition, LgmpQueueLayout.ClientMessageWriteSerial, LgmpQueueLayout.ClientMessageReadSerial,
            LgmpQueueLayout.ClientMessageOf(0), LgmpQueueLayout.ClientMessageOf(9), LgmpQueueLayout.Position,
        ];
        var random = new Random(1234);
        Span<byte> read = stackalloc byte[64];
        for (int i = 0; i < 2000; i++)
        {
            _region.WriteU32(header + words[random.Next(words.Length)], (uint)random.NextInt64(0, 1L << 32));
            _region.WriteU64(header + LgmpQueueLayout.Subs, (ulong)random.NextInt64());
            _region.WriteU64(header + LgmpQueueLayout.MsgTimeout, (ulong)random.NextInt64());
            if (random.Next(50) == 0)
            {
                _region.WriteU32(header + LgmpQueueLayout.Lock, 1); // held "forever": the host steals it after a bounded wait
            }

            queue!.Post((uint)i, payload, out _);
            _time.AdvanceMs(random.Next(0, 1500));
            Assert.Equal(LgmpStatus.Ok, host.Process());
            queue.ReadData(read, out int length);
            Assert.InRange(length, 0, 64);
            queue.AckData();
            Assert.InRange(queue.Pending, 0, 2);
            queue.TakeNewSubscribers();
        }
    }

    private LgmpHost CreateHost()
    {
        Assert.Equal(LgmpStatus.Ok, LgmpHost.Create(_region, [7, 8, 9], _time, out LgmpHost? host));
        return host!;
    }

    private LgmpClient Join(LgmpHost host)
    {
        var client = new LgmpClient(_region, _time);
        Assert.Equal(LgmpStatus.Ok, client.Init());
        _time.AdvanceMs(200);
        host.Process();
        Assert.Equal(LgmpStatus.Ok, client.SessionInit(new byte[64], out _));
        return client;
    }
}
