using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;
using Vmm.Interop;
using Vmm.Testing.VhostUser;

namespace Vmm.VhostUser.Tests;

/// <summary>
/// A device whose queue thread waits on its kick itself (<see cref="IVirtioNotifierHandoff"/>) is given the ring's
/// kick eventfd, which the session then leaves alone, and gets it taken back when the ring stops. Ordering, not time:
/// the session handles its socket and kicks in order, so a message answered after a kick shows whether it read it.
/// </summary>
public sealed class NotifierHandoffTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_device_that_takes_the_kick_gets_the_front_ends_eventfd_and_the_session_leaves_it_alone()
    {
        var device = new KickTakingDevice(take: true);
        await using var server = new RunningServer(device);
        using (VhostUserFrontend frontend = VhostUserFrontend.Connect(server.SocketPath))
        {
            frontend.Negotiate();
            VhostUserFrontendQueue queue = frontend.StartQueue(0, 16);
            SafeHandle taken = Assert.Single(device.Taken);
            Assert.False(taken.IsClosed);

            ulong buffer = frontend.Allocator.Allocate(64, 8);
            queue.Post([new GuestBuffer(buffer, 8)], [new GuestBuffer(buffer + 8, 8)]);

            // Answered after the kick was written: a session that polled the kick would have read it by now.
            Assert.Equal(1, frontend.GetQueueCount());
            Assert.True(HostEventFd.TryRead((SafeFileHandle)taken, out ulong kicks));
            Assert.Equal(1UL, kicks);

            // The device serves the request when told to (its thread would, woken by that kick).
            device.Serve(0);
            Assert.True(queue.WaitForUsed(s_timeout, out _, out _));

            // GET_VRING_BASE takes the kick back and closes it.
            Assert.Equal(1, frontend.StopQueue(0));
            Assert.Equal([0], device.Released);
            Assert.True(taken.IsClosed);
        }

        server.WaitForCompletedConnections(1);
    }

    [Fact]
    public async Task A_device_that_declines_the_kick_is_notified_through_its_worker_as_before()
    {
        var device = new KickTakingDevice(take: false);
        await using var server = new RunningServer(device);
        using (VhostUserFrontend frontend = VhostUserFrontend.Connect(server.SocketPath))
        {
            frontend.Negotiate();
            VhostUserFrontendQueue queue = frontend.StartQueue(0, 16);
            Assert.Single(device.Taken);

            ulong buffer = frontend.Allocator.Allocate(64, 8);
            queue.Post([new GuestBuffer(buffer, 8)], [new GuestBuffer(buffer + 8, 8)]);
            Assert.True(queue.WaitForUsed(s_timeout, out _, out _), "the session did not deliver the kick to the device");
            Assert.Equal(1, frontend.StopQueue(0));

            // Nothing was taken, so nothing is given back.
            Assert.Empty(device.Released);
        }

        server.WaitForCompletedConnections(1);
    }

    /// <summary>A one-queue echo device that takes (or declines) its kick and serves only when a test says so, or from the worker when it declined.</summary>
    private sealed class KickTakingDevice(bool take) : IVirtioDevice, IVirtioNotifierHandoff
    {
        private static readonly ushort[] s_sizes = [64];
        private readonly Lock _sync = new();
        private IVirtioDeviceContext? _context;

        public List<SafeHandle> Taken { get; } = [];

        public List<int> Released { get; } = [];

        public string Id => "kick0";

        public VirtioDeviceType DeviceType => VirtioDeviceType.Console;

        public ulong DeviceFeatures => 0;

        public IReadOnlyList<ushort> QueueMaxSizes => s_sizes;

        public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => [];

        public int ConfigSize => 0;

        public bool TryTakeNotifier(int queueIndex, SafeHandle notifier)
        {
            lock (_sync)
            {
                Taken.Add(notifier);
            }

            return take;
        }

        public void ReleaseNotifier(int queueIndex)
        {
            lock (_sync)
            {
                Released.Add(queueIndex);
            }
        }

        public void Serve(int queueIndex)
        {
            // The worker activates the device on its own thread: wait for it (a guard against a hang, not a timing).
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref _context) is not null, s_timeout));
            lock (_sync)
            {
                IVirtqueue queue = _context!.Queues[queueIndex];
                while (queue.TryPop(out DescriptorChain? chain))
                {
                    queue.Push(chain, 0);
                }

                queue.NotifyGuest();
            }
        }

        public void ReadConfig(int offset, Span<byte> data)
        {
        }

        public void WriteConfig(int offset, ReadOnlySpan<byte> data)
        {
        }

        public void Activate(IVirtioDeviceContext context)
        {
            lock (_sync)
            {
                _context = context;
            }
        }

        public void ProcessQueue(int queueIndex)
        {
            if (!take)
            {
                Serve(queueIndex);
            }
        }

        public void Reset()
        {
            lock (_sync)
            {
                _context = null;
            }
        }

        public void Dispose()
        {
        }
    }
}
