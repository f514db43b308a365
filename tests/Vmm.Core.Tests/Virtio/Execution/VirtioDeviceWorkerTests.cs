using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Execution;
using Xunit;
using Vmm.Testing.Virtio;

namespace Vmm.Core.Tests.Virtio.Execution;

public sealed class VirtioDeviceWorkerTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Runs_activate_and_queues_on_one_dedicated_thread()
    {
        var device = new ScriptedDevice(queues: 3);
        using var worker = new VirtioDeviceWorker(device);
        worker.Activate(new EmptyDeviceContext());
        Assert.True(SpinWait.SpinUntil(() => device.Processed.Count >= 3, s_timeout));

        worker.Notify(2);
        Assert.True(SpinWait.SpinUntil(() => device.Processed.Count >= 4, s_timeout));

        Assert.Equal(2, device.Processed.Last());
        Assert.Single(device.Threads.Distinct());
        Assert.NotEqual(Environment.CurrentManagedThreadId, device.Threads.First());
    }

    [Fact]
    public void Notifications_before_activation_are_not_processed()
    {
        var device = new ScriptedDevice(queues: 1);
        using var worker = new VirtioDeviceWorker(device);
        worker.Notify(0);
        worker.Reset(); // a round trip through the worker: anything it would have done is done
        Assert.Empty(device.Processed);
        Assert.Equal(1, device.Resets);
    }

    [Fact]
    public void A_throwing_device_fails_once_and_stops_until_reset()
    {
        var device = new ScriptedDevice(queues: 1) { ThrowOnProcess = true };
        using var worker = new VirtioDeviceWorker(device);
        var failures = new List<Exception>();
        worker.Failed += failures.Add;
        worker.Activate(new EmptyDeviceContext());
        Assert.True(SpinWait.SpinUntil(() => worker.IsFailed, s_timeout));

        worker.Notify(0);
        worker.Reset();
        Assert.False(worker.IsFailed);
        Assert.Single(failures);
        Assert.IsType<GuestMemoryLikeException>(failures[0]);
        Assert.Equal(1, device.Attempts);

        device.ThrowOnProcess = false;
        worker.Activate(new EmptyDeviceContext());
        Assert.True(SpinWait.SpinUntil(() => device.Processed.Count == 1, s_timeout));
    }

    [Fact]
    public void A_throwing_device_says_why_until_reset()
    {
        var device = new ScriptedDevice(queues: 1) { ThrowOnProcess = true };
        using var worker = new VirtioDeviceWorker(device);
        Assert.Null(worker.FailureReason);
        worker.Activate(new EmptyDeviceContext());
        Assert.True(SpinWait.SpinUntil(() => worker.IsFailed, s_timeout));

        Assert.Equal("ProcessQueue(0) threw GuestMemoryLikeException: boom", worker.FailureReason);
        worker.Reset();
        Assert.Null(worker.FailureReason);
    }

    [Fact]
    public void A_hung_device_is_failed_by_the_watchdog_and_neither_reset_nor_dispose_waits_for_it()
    {
        using var release = new ManualResetEventSlim(false);
        var device = new HangingDevice(release);
        var worker = new VirtioDeviceWorker(device, hangLimit: TimeSpan.FromMilliseconds(200));
        var failures = new List<Exception>();
        worker.Failed += e => { lock (failures) { failures.Add(e); } };
        worker.Activate(new EmptyDeviceContext());

        // IsFailed turns true before the Failed handlers run (on the watchdog's thread): wait for both.
        Assert.True(SpinWait.SpinUntil(() => worker.IsFailed && Volatile.Read(ref failures).Count > 0, s_timeout));
        Assert.Equal("ProcessQueue(0) hung: no return after 0.2 s", worker.FailureReason);
        Assert.IsType<TimeoutException>(Assert.Single(failures));

        worker.Reset(); // returns at once: the worker is still inside ProcessQueue
        Assert.True(worker.IsFailed);
        worker.Dispose(); // does not join a thread that cannot come back

        release.Set(); // the stuck call returns at last: the pending reset runs, nothing is reported twice
        Assert.True(SpinWait.SpinUntil(() => device.Resets == 1 || !device.WorkerThread!.IsAlive, s_timeout));
        Assert.Single(failures);
    }

    [Fact]
    public void Serving_notifications_allocates_nothing_on_the_worker()
    {
        var device = new AllocationProbeDevice();
        using var worker = new VirtioDeviceWorker(device);
        worker.Activate(new EmptyDeviceContext());
        for (int i = 0; i < AllocationProbeDevice.Calls; i++)
        {
            int before = Volatile.Read(ref device.Count);
            worker.Notify(0);
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref device.Count) > before, s_timeout));
        }

        // Bytes the worker thread allocated between the 50th and the last call: the loop, the watchdog's
        // bookkeeping and the dispatch in between must not allocate.
        Assert.Equal(0, device.AllocatedAt[AllocationProbeDevice.Calls - 1] - device.AllocatedAt[50]);
    }

    [Fact]
    public void Dispose_joins_the_thread()
    {
        var device = new ScriptedDevice(queues: 1);
        var worker = new VirtioDeviceWorker(device);
        worker.Activate(new EmptyDeviceContext());
        Assert.True(SpinWait.SpinUntil(() => device.Processed.Count == 1, s_timeout));
        Thread thread = device.ThreadObjects.Single();

        worker.Dispose();

        Assert.False(thread.IsAlive);
        Assert.Throws<ObjectDisposedException>(worker.Reset);
    }

    [Fact]
    public void An_active_device_with_queue_threads_is_woken_on_the_notifying_thread()
    {
        var device = new DirectDevice(queues: 2) { DirectQueues = [1] };
        using var worker = new VirtioDeviceWorker(device);
        worker.Notify(1); // before activation: the worker's way (and dropped), never the device's thread
        worker.Activate(new EmptyDeviceContext());
        Assert.True(SpinWait.SpinUntil(() => device.Processed.Count >= 2, s_timeout));
        Assert.Empty(device.DirectNotifications);

        worker.Notify(1);
        Assert.Equal([(1, Environment.CurrentManagedThreadId)], device.DirectNotifications);

        worker.Notify(0); // a queue without a thread of its own: ProcessQueue on the worker
        Assert.True(SpinWait.SpinUntil(() => device.Processed.Count >= 3, s_timeout));
        Assert.Equal(0, device.Processed.Last());
        Assert.Single(device.DirectNotifications);

        worker.Reset();
        worker.Notify(1); // reset: the worker's way again until the next activation
        worker.Reset();
        Assert.Single(device.DirectNotifications);
    }

    [Fact]
    public void A_throwing_direct_notification_fails_the_device_on_its_worker()
    {
        var device = new DirectDevice(queues: 2) { DirectQueues = [1] };
        using var worker = new VirtioDeviceWorker(device);
        using var failed = new ManualResetEventSlim();
        (Exception Exception, int Thread)? failure = null;
        worker.Failed += e =>
        {
            failure = (e, Environment.CurrentManagedThreadId);
            failed.Set();
        };
        worker.Activate(new EmptyDeviceContext());
        Assert.True(SpinWait.SpinUntil(() => device.Processed.Count >= 2, s_timeout));

        device.ThrowOnDirect = true;
        worker.Notify(1); // must not throw here, on the notifier's thread

        Assert.True(failed.Wait(s_timeout, TestContext.Current.CancellationToken), "The device never failed.");
        Assert.True(worker.IsFailed);
        Assert.IsType<GuestMemoryLikeException>(failure!.Value.Exception);
        Assert.NotEqual(Environment.CurrentManagedThreadId, failure.Value.Thread);

        worker.Reset();
        Assert.False(worker.IsFailed);
    }

    [Fact]
    public void ScheduleQueue_reaches_ProcessQueue_on_the_worker_even_for_a_queue_with_its_own_thread()
    {
        var device = new DirectDevice(queues: 2) { DirectQueues = [1] };
        using var worker = new VirtioDeviceWorker(device);
        worker.Activate(new EmptyDeviceContext());
        Assert.True(SpinWait.SpinUntil(() => device.Processed.Count >= 2, s_timeout));

        worker.Schedule(1);

        Assert.True(SpinWait.SpinUntil(() => device.Processed.Count >= 3, s_timeout));
        Assert.Equal(1, device.Processed.Last());
        Assert.Empty(device.DirectNotifications);
    }

    [Fact]
    public void A_synchronous_worker_runs_every_call_on_the_caller_before_returning()
    {
        var device = new ScriptedDevice(queues: 3);
        using var worker = VirtioDeviceWorker.CreateSynchronous(device);
        Assert.True(worker.IsSynchronous);

        worker.Activate(new EmptyDeviceContext());
        Assert.Equal([0, 1, 2], device.Processed);

        worker.Notify(2);
        Assert.Equal([0, 1, 2, 2], device.Processed);
        Assert.Equal([Environment.CurrentManagedThreadId], device.Threads.Distinct());

        worker.Reset();
        Assert.Equal(1, device.Resets);
        worker.Notify(1); // not active after the reset: dropped, as on a worker thread
        Assert.Equal(4, device.Processed.Count);
    }

    [Fact]
    public void A_synchronous_worker_fails_a_throwing_device_until_reset()
    {
        var device = new ScriptedDevice(queues: 1) { ThrowOnProcess = true };
        using var worker = VirtioDeviceWorker.CreateSynchronous(device);
        var failures = new List<Exception>();
        worker.Failed += failures.Add;

        worker.Activate(new EmptyDeviceContext());
        worker.Notify(0);

        Assert.True(worker.IsFailed);
        Assert.IsType<GuestMemoryLikeException>(Assert.Single(failures));
        Assert.Equal(1, device.Attempts);
        worker.Reset();
        Assert.False(worker.IsFailed);
    }

    [Fact]
    public void A_synchronous_worker_runs_work_a_device_schedules_from_inside_a_call_after_that_call()
    {
        var device = new ReschedulingDevice();
        using var worker = VirtioDeviceWorker.CreateSynchronous(device);
        device.Worker = worker;

        worker.Activate(new EmptyDeviceContext());

        // Activation polls queues 0 and 1; queue 0 schedules queue 1 once more from inside its call.
        Assert.Equal([0, 1, 1], device.Processed);
        Assert.Equal([(0, 1)], device.Nesting);
    }

    [Fact]
    public void A_synchronous_worker_does_not_notify_a_device_thread_directly()
    {
        var device = new DirectDevice(queues: 2) { DirectQueues = [1] };
        using var worker = VirtioDeviceWorker.CreateSynchronous(device);
        worker.Activate(new EmptyDeviceContext());

        worker.Notify(1);

        Assert.Empty(device.DirectNotifications);
        Assert.Equal([0, 1, 1], device.Processed);
    }

    private sealed class GuestMemoryLikeException(string message) : Exception(message);

    private sealed class DirectDevice(int queues) : ScriptedDevice(queues), IVirtioDirectNotification
    {
        public required int[] DirectQueues { get; init; }

        public bool ThrowOnDirect { get; set; }

        public List<(int Queue, int Thread)> DirectNotifications { get; } = [];

        public bool TryNotifyDirectly(int queueIndex)
        {
            if (ThrowOnDirect)
            {
                throw new GuestMemoryLikeException("direct boom");
            }

            if (!DirectQueues.Contains(queueIndex))
            {
                return false;
            }

            lock (DirectNotifications)
            {
                DirectNotifications.Add((queueIndex, Environment.CurrentManagedThreadId));
            }

            return true;
        }
    }

    private sealed class ReschedulingDevice() : ScriptedDevice(queues: 2)
    {
        private int _depth;

        public VirtioDeviceWorker? Worker { get; set; }

        public List<(int Queue, int Depth)> Nesting { get; } = [];

        public override void ProcessQueue(int queueIndex)
        {
            _depth++;
            Record(queueIndex);
            if (queueIndex == 0)
            {
                Worker!.Schedule(1);
                Nesting.Add((queueIndex, _depth));
            }

            _depth--;
        }
    }

    private sealed class AllocationProbeDevice() : ScriptedDevice(queues: 1)
    {
        public const int Calls = 200;
        public readonly long[] AllocatedAt = new long[Calls + 1];
        public int Count;

        public override void ProcessQueue(int queueIndex)
        {
            int index = Volatile.Read(ref Count);
            if (index < AllocatedAt.Length)
            {
                AllocatedAt[index] = GC.GetAllocatedBytesForCurrentThread();
            }

            Volatile.Write(ref Count, index + 1);
        }
    }

    private sealed class HangingDevice(ManualResetEventSlim release) : ScriptedDevice(queues: 1)
    {
        public Thread? WorkerThread { get; private set; }

        public override void ProcessQueue(int queueIndex)
        {
            WorkerThread = Thread.CurrentThread;
            release.Wait();
        }
    }

    private class ScriptedDevice(int queues) : IVirtioDevice
    {
        private readonly Lock _lock = new();

        public string Id => "scripted";

        public VirtioDeviceType DeviceType => VirtioDeviceType.Entropy;

        public ulong DeviceFeatures => 0;

        public IReadOnlyList<ushort> QueueMaxSizes { get; } = [.. Enumerable.Repeat((ushort)8, queues)];

        public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => [];

        public int ConfigSize => 0;

        public bool ThrowOnProcess { get; set; }

        public List<int> Processed { get; } = [];

        public List<int> Threads { get; } = [];

        public List<Thread> ThreadObjects { get; } = [];

        public int Attempts { get; private set; }

        public int Resets { get; private set; }

        public void Activate(IVirtioDeviceContext context) => Record(-1);

        public virtual void ProcessQueue(int queueIndex)
        {
            Attempts++;
            if (ThrowOnProcess)
            {
                throw new GuestMemoryLikeException("boom");
            }

            Record(queueIndex);
        }

        public void Reset() => Resets++;

        public void ReadConfig(int offset, Span<byte> data) => data.Clear();

        public void WriteConfig(int offset, ReadOnlySpan<byte> data)
        {
        }

        public void Dispose()
        {
        }

        protected void Record(int queue)
        {
            lock (_lock)
            {
                if (queue >= 0)
                {
                    Processed.Add(queue);
                }

                Threads.Add(Environment.CurrentManagedThreadId);
                if (!ThreadObjects.Contains(Thread.CurrentThread))
                {
                    ThreadObjects.Add(Thread.CurrentThread);
                }
            }
        }
    }
}
