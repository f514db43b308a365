using Microsoft.Extensions.Logging;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Pci;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;

namespace Vmm.Fuzz.Harness;

/// <summary>
/// A virtio device behind the in-process PCI transport with the C# driver, as the device tests use it, plus the
/// oracle: the device worker's failure and every exception a component logged. A typed protocol error
/// (<see cref="VirtioProtocolException"/>, <see cref="GuestMemoryException"/>) is the expected answer to hostile
/// input; any other exception is a finding.
/// </summary>
public sealed class DeviceRig : IDisposable
{
    private const ulong MemorySize = 96UL << 20;
    private const ulong MinimumFreeForReset = 8UL << 20;

    private Exception? _failure;

    /// <summary>Builds the machine, attaches the device made by <paramref name="create"/> and opens the driver.</summary>
    public DeviceRig(Func<ILoggerFactory, IVirtioDevice> create, VirtioDeviceType type)
    {
        ArgumentNullException.ThrowIfNull(create);
        // The device runs on this thread (no worker thread): one input then always takes the same path, which
        // afl's guidance needs (SharpFuzz's coverage map has one previous-location for all threads).
        Machine = new InProcessMachine(MemorySize, Log) { SynchronousDevices = true };
        try
        {
            Transport = Machine.AttachVirtioDevice(create(Log));
            Transport.Worker.Failed += exception => Volatile.Write(ref _failure, exception);
            Driver = VirtioPciDriver.Open(Machine, type);
        }
        catch
        {
            Machine.Dispose();
            throw;
        }
    }

    /// <summary>The machine.</summary>
    public InProcessMachine Machine { get; }

    /// <summary>The transport in front of the device.</summary>
    public VirtioPciTransport Transport { get; }

    /// <summary>The guest driver.</summary>
    public VirtioPciDriver Driver { get; }

    /// <summary>The logger factory every component of the rig logs to.</summary>
    public ExceptionRecordingLoggerFactory Log { get; } = new();

    /// <summary>True once the device worker failed the device (it needs a reset).</summary>
    public bool DeviceFailed => Volatile.Read(ref _failure) is not null;

    /// <summary>False when another reset could run out of ring memory: make a new rig.</summary>
    public bool CanReset => Machine.Allocator.Remaining > MinimumFreeForReset;

    /// <summary>True for the typed errors hostile guest input is meant to produce.</summary>
    public static bool IsExpected(Exception exception) => exception is VirtioProtocolException or GuestMemoryException;

    /// <summary>Resets the device and brings it back to DRIVER_OK with every queue set up.</summary>
    public void Reinitialize(ulong wantedFeatures = ulong.MaxValue)
    {
        Driver.Initialize(wantedFeatures);
        Volatile.Write(ref _failure, null);
    }

    /// <summary>Throws <see cref="FuzzFindingException"/> when the device failed or something logged an exception that is not a typed protocol error.</summary>
    public void ThrowOnUnexpected()
    {
        Exception? failure = Volatile.Read(ref _failure);
        if (failure is not null && !IsExpected(failure))
        {
            throw new FuzzFindingException($"the device failed with {failure.GetType().Name}: {failure.Message}", failure);
        }

        foreach ((string category, Exception exception) in Log.Drain())
        {
            if (!IsExpected(exception))
            {
                throw new FuzzFindingException($"{category} logged {exception.GetType().Name}: {exception.Message}", exception);
            }
        }
    }

    /// <summary>
    /// Submits one chain, kicks, and waits for the device to return it (other chains it returns meanwhile are
    /// reaped). Returns false when the device failed instead (the request never comes back); a request neither
    /// returned nor failed within the limit is a hang, unless <paramref name="mayPark"/>: then a request the device
    /// kept (a fenced virtio-gpu command waits for its context) is left in flight until the next reset.
    /// </summary>
    public bool SubmitAndWait(int queue, ReadOnlySpan<GuestBuffer> readable, ReadOnlySpan<GuestBuffer> writable, bool indirect, TimeSpan limit, bool mayPark = false)
    {
        ushort head = Driver.Submit(queue, readable, writable, indirect);
        Driver.Kick(queue);
        long deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        while (true)
        {
            bool returned = false;
            while (Driver.GetQueue(queue).TryGetUsed(out ushort done, out _))
            {
                returned |= done == head;
            }

            if (returned)
            {
                return true;
            }

            if (DeviceFailed)
            {
                return false;
            }

            if (mayPark && Transport.Worker.IsSynchronous)
            {
                return true; // the kick ran the device on this thread: what it did not return, it parked
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new FuzzFindingException($"queue {queue}: the request neither came back nor failed the device within {limit.TotalSeconds} s (status 0x{Driver.ReadStatus():x2})");
            }

            Thread.Yield();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Machine.Dispose();
}
