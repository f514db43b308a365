using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Gpu;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Core.Virtio.Pci;
using Vmm.Plugins.VirtioGpu;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;
using Vmm.Testing.Virtio;

namespace Vmm.Plugins.CrossDomain.Testing;

/// <summary>
/// A guest's view of one virtio-gpu device with the cross-domain context type, behind the in-process PCI machine,
/// that several threads drive at once (one cross-domain context per X client, as muvm's bridge opens one DRM fd per
/// client). Requests go onto the control queue under one lock. The queue's interrupt handler (run by the in-process
/// machine on the thread that raised the MSI, as a guest's handler runs on the CPU the interrupt reached) reaps the
/// used ring and completes each request by its head, so only the thread that waits for that request wakes and no
/// extra thread sits between the device and a waiter.
/// Guest buffers come from a small pool (the machine's allocator never frees); resource and context ids and
/// host-visible window ranges are handed out here so that contexts never collide.
/// </summary>
public sealed class CrossDomainGuestGpu : IDisposable
{
    private const int SmallBuffer = 256;
    // The largest command: a SUBMIT_3D (32-byte header) of the largest SEND (cmd_size is 16 bits).
    private const int LargeBuffer = 32 + ushort.MaxValue;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly ServiceProvider _services;
    private readonly Lock _queue = new();
    private readonly ManualResetEventSlim _reaped = new();
    private readonly Dictionary<ushort, PendingRequest> _pending = [];
    private readonly Stack<GuestBuffer> _small = new();
    private readonly Stack<GuestBuffer> _large = new();
    private readonly SortedDictionary<ulong, ulong> _freeWindow = [];
    private readonly uint _vector;
    private uint _nextContext;
    private uint _nextResource;
    private long _nextFence;
    private long _generation;
    private volatile bool _resetting;

    /// <summary>Creates the machine and the device, and initializes the driver.</summary>
    /// <param name="contextType">The cross-domain context type (see <see cref="ForX11Display"/>).</param>
    /// <param name="options">virtio-gpu options; the default asks for a 1 GiB host-visible window (a reservation) for mapped blobs.</param>
    /// <param name="memorySize">Guest memory for rings and buffers.</param>
    public CrossDomainGuestGpu(IGpuContextType contextType, VirtioGpuOptions? options = null, ulong memorySize = 256UL << 20, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(contextType);
        Type = contextType;
        _services = new ServiceCollection().AddSingleton<IGpuContextType>(Type).BuildServiceProvider();
        Machine = new InProcessMachine(memorySize);
        var factory = (IDeviceFactory)new VirtioGpuDeviceFactory();
        Device = factory.Create(
            new DeviceCreateContext("gpu0", loggerFactory ?? NullLoggerFactory.Instance, null, _services, AppContext.BaseDirectory),
            options ?? new VirtioGpuOptions { HostVisibleWindowSize = 1UL << 30 });
        Transport = Machine.AttachVirtioDevice((IVirtioDevice)Device);
        Driver = VirtioPciDriver.Open(Machine, VirtioDeviceType.Gpu);
        Driver.Initialize();
        _vector = Driver.ConfigInterruptVector + 1;
        Machine.Msi.SetHandler(_vector, OnControlInterrupt);
        if (Transport.SharedMemory.Count > 0 && Transport.SharedMemory[0] is SharedMemoryWindow window)
        {
            WindowAddress = window.HostAddress;
            WindowSize = window.Size;
            _freeWindow[0] = window.Size;
        }
    }

    /// <summary>The context type the device offers.</summary>
    public IGpuContextType Type { get; }

    /// <summary>A device whose cross-domain X11 channels reach the host X server of <paramref name="display"/> (":N", a socket path or '@name').</summary>
    public static CrossDomainGuestGpu ForX11Display(string display, VirtioGpuOptions? options = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
        => new(new CrossDomainContextType(new CrossDomainSettings(x11: Host.DisplaySocket.ParseX11(display, out _)), loggerFactory), options, loggerFactory: loggerFactory);

    /// <summary>The in-process machine (guest memory, PCI bus, MSI).</summary>
    public InProcessMachine Machine { get; }

    /// <summary>The virtio-gpu device.</summary>
    public IDevice Device { get; }

    /// <summary>The virtio-pci transport; its shared memory holds the host-visible window when one was asked for.</summary>
    public VirtioPciTransport Transport { get; }

    /// <summary>The guest-side virtio driver. Drive it directly only while no other thread uses this object.</summary>
    public VirtioPciDriver Driver { get; }

    /// <summary>Where the guest sees the host-visible window (its BAR mapping); 0 when the device has none.</summary>
    public nint WindowAddress { get; }

    /// <summary>The host-visible window's size in bytes.</summary>
    public ulong WindowSize { get; }

    /// <summary>A context id no other context of this device has.</summary>
    public uint NewContextId() => Interlocked.Increment(ref _nextContext);

    /// <summary>A resource id no other resource of this device has.</summary>
    public uint NewResourceId() => Interlocked.Increment(ref _nextResource);

    /// <summary>A fence id, increasing across the device.</summary>
    public ulong NewFence() => (ulong)Interlocked.Increment(ref _nextFence);

    /// <summary>Takes <paramref name="size"/> bytes (page-rounded) of the host-visible window; returns the offset.</summary>
    /// <exception cref="InvalidOperationException">The window is full or absent.</exception>
    public ulong AllocateWindow(ulong size)
    {
        size = (size + 4095) & ~4095UL;
        lock (_freeWindow)
        {
            foreach ((ulong offset, ulong length) in _freeWindow)
            {
                if (length >= size)
                {
                    _freeWindow.Remove(offset);
                    if (length > size)
                    {
                        _freeWindow[offset + size] = length - size;
                    }

                    return offset;
                }
            }
        }

        throw new InvalidOperationException($"the host-visible window has no free range of {size} bytes");
    }

    /// <summary>Gives back a range <see cref="AllocateWindow"/> handed out.</summary>
    public void FreeWindow(ulong offset, ulong size)
    {
        size = (size + 4095) & ~4095UL;
        lock (_freeWindow)
        {
            // Merge with the neighbours so the window does not fragment over many clients.
            if (_freeWindow.Remove(offset + size, out ulong after))
            {
                size += after;
            }

            ulong? before = _freeWindow.Keys.LastOrDefault(key => key < offset, ulong.MaxValue);
            if (before is ulong start && start != ulong.MaxValue && start + _freeWindow[start] == offset)
            {
                _freeWindow[start] += size;
                return;
            }

            _freeWindow[offset] = size;
        }
    }

    /// <summary>Sends a control command and waits for its answer; returns the answer's bytes.</summary>
    /// <exception cref="CrossDomainGuestException">The device returned nothing in time, or was reset meanwhile.</exception>
    public byte[] Control(ReadOnlySpan<byte> command, int responseSize = 24) => Post(command, responseSize).Wait(s_timeout);

    /// <summary>Sends a control command and returns the response type.</summary>
    public uint ControlType(ReadOnlySpan<byte> command) => CrossDomainCommands.ResponseType(Control(command));

    /// <summary>Posts a control command without waiting (a fenced POLL is answered much later).</summary>
    public PendingRequest Post(ReadOnlySpan<byte> command, int responseSize = 24)
    {
        GuestBuffer request = Rent(command.Length);
        GuestBuffer response = Rent(responseSize);
        Machine.Memory.Write(request.Address, command);
        var pending = new PendingRequest(this, request, response, responseSize);
        bool kick;
        lock (_queue)
        {
            while (Driver.GetQueue(0).FreeDescriptors < 2)
            {
                _reaped.Reset();
                ReapLocked();
                if (Driver.GetQueue(0).FreeDescriptors < 2)
                {
                    // The queue is full (as Linux's driver waits in virtio_gpu_queue_ctrl_sgs): until the interrupt
                    // handler reaped something; the slice covers an interrupt that never comes (a failed device).
                    _queue.Exit();
                    _reaped.Wait(50);
                    _queue.Enter();
                }
            }

            pending.Generation = Interlocked.Read(ref _generation);
            DriverVirtqueue ring = Driver.GetQueue(0);
            ushort head = ring.Add([request with { Length = (uint)command.Length }], [response with { Length = (uint)responseSize }]);
            _pending[head] = pending;
            kick = ring.KickNeeded();
        }

        // The doorbell rings outside the lock, as Linux's virtio_gpu_queue_ctrl_sgs notifies after dropping qlock:
        // the kick wakes the device worker, whose interrupt handler (or a context thread's) takes this lock next,
        // and would otherwise find it held by a thread the wake just preempted.
        if (kick)
        {
            Driver.Kick(0);
        }

        return pending;
    }

    /// <summary>
    /// Resets the device as a guest's driver would on unbind (status 0), fails every request still waiting, and
    /// brings the driver up again.
    /// </summary>
    public void Reset()
    {
        // The device's worker may be in the interrupt handler, which must not wait for this lock while the reset
        // waits for the worker: the handler gives up while this is set (every request is failed below anyway).
        _resetting = true;
        try
        {
            lock (_queue)
            {
                Interlocked.Increment(ref _generation);
                Driver.Reset();
                foreach (PendingRequest pending in _pending.Values)
                {
                    pending.Complete(null);
                }

                _pending.Clear();
                Driver.Initialize();
            }
        }
        finally
        {
            _resetting = false;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Machine.Msi.SetHandler(_vector, null);
        lock (_queue)
        {
            foreach (PendingRequest pending in _pending.Values)
            {
                pending.Complete(null);
            }

            _pending.Clear();
        }

        Device.Dispose();
        Machine.Dispose();
        _services.Dispose();
        _reaped.Dispose();
    }

    /// <summary>Waits for <paramref name="request"/>: the interrupt handler completes it.</summary>
    internal bool WaitFor(PendingRequest request, TimeSpan timeout)
    {
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!request.WaitCompleted(TimeSpan.FromMilliseconds(Math.Clamp(deadline - Environment.TickCount64, 0, 50))))
        {
            // A slice without an interrupt: look at the used ring once (covers a handler that gave up during a reset).
            lock (_queue)
            {
                ReapLocked();
            }

            if (request.IsCompleted)
            {
                break;
            }

            if (deadline - Environment.TickCount64 <= 0)
            {
                return false;
            }
        }

        return true;
    }

    internal void Return(GuestBuffer buffer)
    {
        lock (_small)
        {
            (buffer.Length == SmallBuffer ? _small : _large).Push(buffer);
        }
    }

    /// <summary>The control queue's MSI handler: on the thread that pushed the used buffers.</summary>
    private void OnControlInterrupt()
    {
        while (!_queue.TryEnter(1))
        {
            if (_resetting)
            {
                return;
            }
        }

        try
        {
            ReapLocked();
        }
        finally
        {
            _queue.Exit();
        }

        _reaped.Set();
    }

    private void ReapLocked()
    {
        DriverVirtqueue ring;
        try
        {
            ring = Driver.GetQueue(0);
        }
        catch (InvalidOperationException)
        {
            return;
        }

        while (ring.TryGetUsed(out ushort head, out uint length))
        {
            if (_pending.Remove(head, out PendingRequest? pending))
            {
                pending.Complete(Machine.Memory.GetSpan(pending.Response.Address, (int)Math.Min(length, (uint)pending.ResponseSize)).ToArray());
            }
        }
    }

    private GuestBuffer Rent(int size)
    {
        if (size > LargeBuffer)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"at most {LargeBuffer} bytes a command");
        }

        int bucket = size <= SmallBuffer ? SmallBuffer : LargeBuffer;
        lock (_small)
        {
            Stack<GuestBuffer> pool = bucket == SmallBuffer ? _small : _large;
            if (pool.TryPop(out GuestBuffer buffer))
            {
                return buffer;
            }
        }

        return Machine.AllocateBuffer((uint)bucket);
    }
}
