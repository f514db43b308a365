using Vmm.Plugins.CrossDomain.Host;
using Vmm.Plugins.CrossDomain.Protocol;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// libkrun's futex forwarding through virtio-gpu, driven as muvm's bridge drives it: FUTEX_NEW on a virtio-fs export
/// of a /dev/shm file, FUTEX_SIGNAL both ways, FUTEX_DESTROY. The host side is this process: it maps the same file and
/// waits and wakes on the word with real futex calls, as the X server's xshmfence does.
/// </summary>
public sealed class FutexForwardingTests : IDisposable
{
    private const byte FutexSignal = 9;
    private const byte FutexDestroy = 10;
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    private readonly SharedFutexFile _file = new();
    private readonly CrossDomainGuest _guest;

    public FutexForwardingTests() => _guest = TestGuests.Create(new CrossDomainSettings(exports: [_file]));

    public void Dispose()
    {
        _guest.Dispose();
        _file.Dispose();
    }

    [Fact]
    public void A_guest_signal_wakes_a_host_waiter_on_the_shared_word()
    {
        const uint id = 0x5eed_0001;
        _guest.Open(0);
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, id)));
        _guest.WaitForFutexSignal(id); // the watcher's first signal, as libkrun's

        // The host waiter sleeps on value 0 until a wake comes; the guest signals until it is woken (no lost-wake race).
        bool woken = false;
        var waiter = new Thread(() => woken = _file.WaitForWake(0, s_wait)) { IsBackground = true };
        waiter.Start();
        long deadline = Environment.TickCount64 + (long)s_wait.TotalMilliseconds;
        while (waiter.IsAlive && Environment.TickCount64 < deadline)
        {
            Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.IdCommand(FutexSignal, id)));
            waiter.Join(TimeSpan.FromMilliseconds(20));
        }

        waiter.Join();
        Assert.True(woken, "the host waiter was not woken by the guest's FUTEX_SIGNAL");

        // The forwarded wake used bitset ~1: the watcher (bitset 1) slept through all of them, so nothing echoes back.
        Assert.False(_guest.PollReturned(TimeSpan.FromMilliseconds(300)), "the guest's own FUTEX_SIGNAL came back to it");
    }

    [Fact]
    public void A_host_wake_after_a_change_reaches_the_guest_as_futex_signal()
    {
        const uint id = 0x5eed_0002;
        _guest.Open(0);
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, id)));
        _guest.WaitForFutexSignal(id);

        // xshmfence_trigger: set the word, wake every waiter.
        _file.Word = 1;
        _file.Wake();
        _guest.WaitForFutexSignal(id);
        Assert.Equal(1u, _file.Word);

        // Twice more: each change is forwarded again (one signal at least per change, however many wakes).
        _file.Word = 0;
        _file.Wake();
        _guest.WaitForFutexSignal(id);
    }

    [Fact]
    public void Destroy_joins_the_watcher_and_a_context_destroy_ends_every_watcher()
    {
        const uint first = 0x5eed_0003;
        const uint second = 0x5eed_0004;
        _guest.Open(0);
        _file.Word = 0x1234;
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit([
            .. CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, first),
            .. CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, second)]));
        _guest.WaitForFutexSignal(first);
        _guest.WaitForFutexSignal(second);
        Assert.Equal((1, 1), (WatcherThreads(first), WatcherThreads(second)));

        // DESTROY answers only after the watcher ended; libkrun flips the word to wake it.
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.IdCommand(FutexDestroy, first)));
        Assert.Equal(0, WatcherThreadsGone(first));
        Assert.Equal(~0x1234u, _file.Word);
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, _guest.Submit(CrossDomainCommands.IdCommand(FutexSignal, first)));

        // CTX_DESTROY ends the rest and returns the parked POLL.
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Control(CrossDomainCommands.Command(0x0201, 24, CrossDomainGuest.ContextId)));
        Assert.Equal(0, WatcherThreadsGone(second));
        Assert.True(_guest.PollReturned(s_wait), "the parked POLL was not returned at CTX_DESTROY");
    }

    [Fact]
    public void A_device_reset_ends_the_watchers()
    {
        const uint id = 0x5eed_0005;
        _guest.Open(0);
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, id)));
        _guest.WaitForFutexSignal(id);
        Assert.Equal(1, WatcherThreads(id));

        _guest.Driver.Reset();
        Assert.Equal(0, WatcherThreadsGone(id));
    }

    [Fact]
    public void Hostile_futex_commands_are_protocol_errors_and_the_context_goes_on()
    {
        const uint id = 0x7ead_0001;
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Control(CrossDomainCommands.CreateContext(CrossDomainGuest.ContextId, 5)));
        _guest.AttachRings();
        uint Submit(byte[] stream) => _guest.Submit(stream);
        byte[] futexNew = CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, id);

        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(futexNew)); // before INIT
        Assert.Equal(CrossDomainCommands.OkNoData, Submit(CrossDomainCommands.Init(CrossDomainGuest.QueryRingId, CrossDomainGuest.ChannelRingId, 0)));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId + 1, SharedFutexFile.Handle, id)));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle + 1, id)));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.IdCommand(FutexSignal, id)));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.IdCommand(FutexDestroy, id)));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.SendMessage("x"u8, [(id, (uint)CrossDomainIdentifierType.Shm)])));
        Assert.Equal(0, _file.Opened);

        Assert.Equal(CrossDomainCommands.OkNoData, Submit(futexNew));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(futexNew)); // the id is in use
        for (uint i = 1; i < CrossDomainContext.MaxFutexes; i++)
        {
            Assert.Equal(CrossDomainCommands.OkNoData, Submit(CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, id + i)));
        }

        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, id + CrossDomainContext.MaxFutexes)));
        Assert.Equal(CrossDomainContext.MaxFutexes, WatcherThreads(prefix: "futex 7ead"));

        // A file too short to hold a word is refused before anything is mapped.
        using var tiny = new SharedFutexFile(size: 2);
        using var other = TestGuests.Create(new CrossDomainSettings(exports: [tiny]));
        other.Open(0);
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, other.Submit(CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, 0x7eae_0001)));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, other.Submit(CrossDomainCommands.FutexNew(0, 0, 0x7eae_0002)));

        // The first context still forwards, and CTX_DESTROY joins all 128 watchers.
        Assert.Equal(CrossDomainCommands.OkNoData, Submit(CrossDomainCommands.IdCommand(FutexSignal, id + 5)));
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Control(CrossDomainCommands.Command(0x0201, 24, CrossDomainGuest.ContextId)));
        Assert.Equal(0, WatcherThreadsGone(prefix: "futex 7ead"));
    }

    /// <summary>
    /// The watcher count once the joined threads have left /proc/self/task: Join returns when the thread's code is
    /// done, a moment before the kernel task goes.
    /// </summary>
    internal static int WatcherThreadsGone(uint id = 0, string? prefix = null)
    {
        long deadline = Environment.TickCount64 + 5_000;
        int count;
        while ((count = WatcherThreads(id, prefix)) != 0 && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(10);
        }

        return count;
    }

    /// <summary>Threads of this process named for futex <paramref name="id"/>'s watcher (or whose name starts with <paramref name="prefix"/>).</summary>
    internal static int WatcherThreads(uint id = 0, string? prefix = null)
    {
        string wanted = prefix ?? $"futex {id:x8}";
        int count = 0;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                string name = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
                count += prefix is null ? (name == wanted ? 1 : 0) : (name.StartsWith(wanted, StringComparison.Ordinal) ? 1 : 0);
            }
            catch (IOException)
            {
                // The thread ended while we looked.
            }
        }

        return count;
    }
}
