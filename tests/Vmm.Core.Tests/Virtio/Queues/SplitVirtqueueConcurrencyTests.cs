using Vmm.Contracts.Virtio;
using Vmm.Core.Interrupts;
using Vmm.Core.Memory;
using Vmm.Core.Virtio.Queues;
using Vmm.Testing.Virtio;
using Xunit;

namespace Vmm.Core.Tests.Virtio.Queues;

/// <summary>
/// Driver and device on two threads, each sleeping whenever the other side's suppression says it may. A
/// missing barrier shows up as a lost kick or interrupt: both sides then sleep forever and the wait times out.
/// </summary>
public sealed class SplitVirtqueueConcurrencyTests
{
    private const int Requests = 10_000;
    private static readonly TimeSpan s_lostWakeup = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 8)]
    [InlineData(true, 8)]
    public async Task NoKickOrInterruptIsLost(bool eventIndex, int depth)
    {
        using GuestMemory memory = GuestMemory.Create(1 << 20);
        var allocator = new GuestMemoryAllocator(memory, 0x1000, 1 << 20);
        var driver = new DriverVirtqueue(memory, allocator, 16, eventIndex, indirect: false);
        using var kicks = new SemaphoreSlim(0);
        using var interrupts = new SemaphoreSlim(0);
        var device = new SplitVirtqueue(memory, 0, 16, new SemaphoreLine(interrupts))
        {
            DescriptorTableAddress = driver.DescriptorTableAddress,
            AvailableRingAddress = driver.AvailableRingAddress,
            UsedRingAddress = driver.UsedRingAddress,
        };
        device.Enable(VirtioFeatures.Version1 | (eventIndex ? VirtioFeatures.RingEventIndex : 0));
        GuestBuffer[] readable = [new GuestBuffer(allocator.Allocate(8, 8), 8)];
        GuestBuffer[] writable = [new GuestBuffer(allocator.Allocate(8, 8), 8)];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        int served = 0;
        Task deviceThread = Task.Run(() => CancelOnFailure(stop, () =>
        {
            byte[] response = new byte[8];
            int passes = 0;
            while (served < Requests)
            {
                if (!kicks.Wait(s_lostWakeup, stop.Token))
                {
                    throw new TimeoutException($"Device: no kick after {served} requests (lost notification).");
                }

                // Like reading an eventfd: one wake-up consumes every kick so far, so surplus kicks cannot hide a lost one.
                ConsumeAll(kicks);

                do
                {
                    device.DisableNotifications();
                    while (device.TryPop(out DescriptorChain? chain))
                    {
                        BitConverter.TryWriteBytes(response, chain.HeadIndex);
                        device.Push(chain, (uint)chain.Write(0, response));
                        served++;
                    }

                    device.NotifyGuest();

                    // Now and then, time for the woken driver to add its next request while notifications are still
                    // off: the window the re-check in EnableNotifications must close.
                    if ((++passes & 63) == 0)
                    {
                        Thread.SpinWait(100_000);
                    }
                }
                while (device.EnableNotifications());
            }
        }), stop.Token);

        int completed = 0;
        Task driverThread = Task.Run(() => CancelOnFailure(stop, () =>
        {
            for (int added = 0; added < Requests; added++)
            {
                // Each request takes two descriptors; depth 1 is ping-pong, where every request needs its kick.
                while ((16 - driver.FreeDescriptors) / 2 >= depth)
                {
                    if (!Drain(driver, ref completed))
                    {
                        driver.EnableInterrupts();
                        if (!driver.HasPendingUsed && !interrupts.Wait(s_lostWakeup, stop.Token))
                        {
                            throw new TimeoutException($"Driver: no interrupt after {completed} completions (lost interrupt).");
                        }

                        ConsumeAll(interrupts);
                    }
                }

                driver.Add(readable, writable);
                if (driver.KickNeeded())
                {
                    kicks.Release();
                }

                Drain(driver, ref completed);
            }

            while (completed < Requests)
            {
                if (!Drain(driver, ref completed))
                {
                    driver.EnableInterrupts();
                    if (!driver.HasPendingUsed && !interrupts.Wait(s_lostWakeup, stop.Token))
                    {
                        throw new TimeoutException($"Driver: no interrupt after {completed} completions (lost interrupt).");
                    }

                    ConsumeAll(interrupts);
                }
            }
        }), stop.Token);

        await Task.WhenAll(deviceThread, driverThread);

        Assert.Equal(Requests, served);
        Assert.Equal(Requests, completed);
        Assert.Equal(16, driver.FreeDescriptors);
    }

    private static void ConsumeAll(SemaphoreSlim semaphore)
    {
        while (semaphore.Wait(0))
        {
        }
    }

    private static void CancelOnFailure(CancellationTokenSource stop, Action body)
    {
        try
        {
            body();
        }
        catch
        {
            // Wake the other side so the first failure is reported instead of a second timeout.
            stop.Cancel();
            throw;
        }
    }

    private static bool Drain(DriverVirtqueue driver, ref int completed)
    {
        bool any = false;
        while (driver.TryGetUsed(out ushort head, out uint length))
        {
            if (length != 8)
            {
                throw new InvalidOperationException($"Request {head} came back with {length} bytes.");
            }

            completed++;
            any = true;
        }

        return any;
    }

    private sealed class SemaphoreLine(SemaphoreSlim semaphore) : IInterruptLine
    {
        public void Signal() => semaphore.Release();
    }
}
