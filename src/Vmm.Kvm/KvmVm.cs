using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Vmm.Core.Bus;
using Vmm.Core.Memory;
using Vmm.Interop;
using Vmm.Kvm.Interrupts;
using static Interop.Kvm;

namespace Vmm.Kvm;

/// <summary>
/// One KVM virtual machine: in-kernel irqchip (PIC, IOAPIC, LAPICs) and PIT, guest RAM in memory slots, the
/// port-I/O and MMIO buses its vCPUs' exits are dispatched to, GSI routing, irqfds and ioeventfds, and its vCPUs.
/// </summary>
/// <remarks>
/// Order: create the VM, add memory, register devices on <see cref="PortBus"/> / <see cref="MmioBus"/>, create
/// vCPUs and set their registers, then <see cref="Start"/>. The VM ends when a vCPU stops (the guest exits,
/// resets, shuts down, faults) or <see cref="RequestStop(KvmVmExit)"/> is called; <see cref="Completion"/> says why.
/// </remarks>
public sealed class KvmVm : IDisposable
{
    private readonly KvmSystem _system;
    private readonly SafeFileHandle _vm;
    private readonly ILogger _logger;
    private readonly List<KvmVcpu> _vcpus = [];
    private readonly List<MemorySlot> _slots = []; // a list of a class: precompiled, where a list of tuples is JIT-compiled at start-up
    private readonly TaskCompletionSource<KvmVmExit> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateLock = new();
    private volatile bool _stopRequested;
    private bool _started;
    private bool _disposed;

    internal KvmVm(KvmSystem system, KvmVmOptions options)
    {
        _system = system;
        _logger = system.LoggerFactory.CreateLogger<KvmVm>();
        _vm = IoctlCreateFd(system.Handle, KVM_CREATE_VM, 0, "ioctl(KVM_CREATE_VM)");
        try
        {
            global::Interop.CheckIo(Ioctl(_vm, KVM_SET_TSS_ADDR, (nuint)options.TssAddress), "ioctl(KVM_SET_TSS_ADDR)");
            ulong identityMap = options.IdentityMapAddress;
            global::Interop.CheckIo(Ioctl(_vm, KVM_SET_IDENTITY_MAP_ADDR, ref identityMap), "ioctl(KVM_SET_IDENTITY_MAP_ADDR)");
            global::Interop.CheckIo(Ioctl(_vm, KVM_CREATE_IRQCHIP, 0), "ioctl(KVM_CREATE_IRQCHIP)");

            // A dummy speaker keeps port 0x61 inside the kernel.
            kvm_pit_config pit = default;
            pit.flags = KVM_PIT_SPEAKER_DUMMY;
            global::Interop.CheckIo(Ioctl(_vm, KVM_CREATE_PIT2, ref pit), "ioctl(KVM_CREATE_PIT2)");
            Routing = new KvmGsiRouting(this);
            MsiController = new KvmMsiController(this);
            KvmLog.VmCreated(_logger, options.TssAddress);
        }
        catch
        {
            _vm.Dispose();
            throw;
        }
    }

    /// <summary>The port-I/O bus: KVM_EXIT_IO accesses are dispatched here by port number.</summary>
    public AddressBus PortBus { get; } = new("pio");

    /// <summary>The MMIO bus: KVM_EXIT_MMIO accesses are dispatched here by guest physical address.</summary>
    public AddressBus MmioBus { get; } = new("mmio");

    /// <summary>MSI delivery for devices' MSI-X tables: a GSI route plus an irqfd per vector.</summary>
    public KvmMsiController MsiController { get; }

    /// <summary>The vCPUs, by id.</summary>
    public IReadOnlyList<KvmVcpu> Vcpus => _vcpus;

    /// <summary>Completes with the reason once the VM has stopped.</summary>
    public Task<KvmVmExit> Completion => _completion.Task;

    /// <summary>Whether a stop has been requested (by the host, a device, or a vCPU's exit).</summary>
    public bool IsStopRequested => _stopRequested;

    internal KvmSystem System => _system;

    internal SafeFileHandle Handle => _vm;

    internal KvmGsiRouting Routing { get; }

    internal ILoggerFactory LoggerFactory => _system.LoggerFactory;

    /// <summary>Registers every region of <paramref name="memory"/> as a memory slot. The memory must outlive the VM.</summary>
    public void AddMemory(GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        foreach (GuestMemoryRegion region in memory.MappedRegions)
        {
            AddMemoryRegion(region.GuestAddress, region.Size, region.HostAddress);
        }
    }

    /// <summary>
    /// Registers host memory at <paramref name="hostAddress"/> as guest RAM at <paramref name="guestAddress"/>.
    /// Both page aligned; never over the LAPIC page (0xFEE00000). Returns the slot number.
    /// </summary>
    public int AddMemoryRegion(ulong guestAddress, ulong size, nint hostAddress)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_stateLock)
        {
            kvm_userspace_memory_region region = new()
            {
                slot = (uint)_slots.Count,
                guest_phys_addr = guestAddress,
                memory_size = size,
                userspace_addr = (ulong)hostAddress,
            };
            global::Interop.CheckIo(Ioctl(_vm, KVM_SET_USER_MEMORY_REGION, ref region), "ioctl(KVM_SET_USER_MEMORY_REGION)");
            _slots.Add(new MemorySlot(guestAddress, size));
            KvmLog.MemorySlotAdded(_logger, region.slot, guestAddress, size);
            return (int)region.slot;
        }
    }

    /// <summary>
    /// Removes memory slot <paramref name="slot"/> (a shared-memory BAR that stopped decoding or moves). The slot
    /// number is not reused.
    /// </summary>
    public void RemoveMemoryRegion(int slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_stateLock)
        {
            if ((uint)slot >= (uint)_slots.Count || _slots[slot].Size == 0)
            {
                throw new ArgumentOutOfRangeException(nameof(slot), slot, "No such memory slot.");
            }

            kvm_userspace_memory_region region = new() { slot = (uint)slot, guest_phys_addr = _slots[slot].GuestAddress };
            global::Interop.CheckIo(Ioctl(_vm, KVM_SET_USER_MEMORY_REGION, ref region), "ioctl(KVM_SET_USER_MEMORY_REGION, delete)");
            _slots[slot] = _slots[slot] with { Size = 0 };
        }
    }

    /// <summary>Creates the next vCPU (ids from 0) with CPUID, boot MSRs and LAPIC LINT0/LINT1 set.</summary>
    public KvmVcpu CreateVcpu()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_stateLock)
        {
            if (_started)
            {
                throw new InvalidOperationException("vCPUs must be created before the VM starts.");
            }

            KvmVcpu vcpu = new(this, _vcpus.Count);
            _vcpus.Add(vcpu);
            return vcpu;
        }
    }

    /// <summary>Starts one thread per vCPU running the guest.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_stateLock)
        {
            if (_started)
            {
                throw new InvalidOperationException("The VM has already started.");
            }

            if (_vcpus.Count == 0)
            {
                throw new InvalidOperationException("The VM has no vCPUs.");
            }

            _started = true;
            foreach (KvmVcpu vcpu in _vcpus)
            {
                vcpu.StartThread();
            }
        }
    }

    /// <summary>Stops the VM (if it is not stopping already) for <paramref name="reason"/>; returns at once.</summary>
    /// <returns>Whether this call decided the VM's exit reason (the first request wins).</returns>
    public bool RequestStop(KvmVmExit reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        bool first = _completion.TrySetResult(reason);
        if (first)
        {
            KvmLog.VmStopping(_logger, reason);
        }

        _stopRequested = true;
        foreach (KvmVcpu vcpu in _vcpus)
        {
            vcpu.Kick();
        }

        return first;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the VM to stop; returns the reason, or null on timeout.</summary>
    public KvmVmExit? WaitForExit(TimeSpan timeout) => _completion.Task.Wait(timeout) ? _completion.Task.Result : null;

    /// <summary>Raises or lowers a GSI (an IOAPIC/PIC pin for GSIs below 24).</summary>
    public void SetIrqLine(uint gsi, bool level)
    {
        kvm_irq_level irq = new() { irq = gsi, level = level ? 1u : 0u };
        global::Interop.CheckIo(Ioctl(_vm, KVM_IRQ_LINE, ref irq), "ioctl(KVM_IRQ_LINE)");
    }

    /// <summary>Raises then lowers a GSI: an edge, as ISA devices signal.</summary>
    public void PulseIrq(uint gsi)
    {
        SetIrqLine(gsi, true);
        SetIrqLine(gsi, false);
    }

    /// <summary>Injects one MSI (KVM_SIGNAL_MSI). Returns false when the guest blocked it (masked, no APIC).</summary>
    public bool SignalMsi(ulong address, uint data)
    {
        kvm_msi msi = new() { address_lo = (uint)address, address_hi = (uint)(address >> 32), data = data };
        return global::Interop.CheckIo(Ioctl(_vm, KVM_SIGNAL_MSI, ref msi), "ioctl(KVM_SIGNAL_MSI)") > 0;
    }

    /// <summary>Makes writes of <paramref name="eventFd"/> raise <paramref name="gsi"/> without a KVM_IRQ_LINE call.</summary>
    /// <returns>A registration that removes the irqfd when disposed.</returns>
    public IDisposable RegisterIrqFd(SafeFileHandle eventFd, uint gsi)
    {
        ArgumentNullException.ThrowIfNull(eventFd);
        SetIrqFd(eventFd, gsi, assign: true);
        return new Registration(() => SetIrqFd(eventFd, gsi, assign: false));
    }

    /// <summary>
    /// Makes guest writes of <paramref name="length"/> bytes (1, 2, 4, 8; 0 = any length, MMIO only) at
    /// <paramref name="address"/> signal <paramref name="eventFd"/> inside the kernel, without a vCPU exit.
    /// </summary>
    /// <returns>A registration that removes the ioeventfd when disposed.</returns>
    public IDisposable RegisterIoEvent(SafeFileHandle eventFd, ulong address, uint length, bool portIo, ulong? dataMatch = null)
    {
        ArgumentNullException.ThrowIfNull(eventFd);
        SetIoEvent(eventFd, address, length, portIo, dataMatch, assign: true);
        return new Registration(() => SetIoEvent(eventFd, address, length, portIo, dataMatch, assign: false));
    }

    /// <summary>Stops the vCPUs, joins their threads, and closes every fd and mapping the VM owns.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        RequestStop(new KvmVmExit(KvmVmExitKind.Stopped, "The VM was disposed."));
        foreach (KvmVcpu vcpu in _vcpus)
        {
            vcpu.Dispose();
        }

        MsiController.Dispose();
        _disposed = true;
        _vm.Dispose();
    }

    internal void OnVcpuStopped(KvmVcpu vcpu, KvmVmExit exit)
    {
        KvmLog.VcpuStopped(_logger, vcpu.Id, exit);
        RequestStop(exit);
    }

    private void SetIrqFd(SafeFileHandle eventFd, uint gsi, bool assign)
    {
        if (!assign && _vm.IsClosed)
        {
            return; // closing the VM fd dropped every irqfd
        }

        bool added = false;
        eventFd.DangerousAddRef(ref added);
        try
        {
            kvm_irqfd irqfd = new()
            {
                fd = (uint)eventFd.DangerousGetHandle(),
                gsi = gsi,
                flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
            };
            global::Interop.CheckIo(Ioctl(_vm, KVM_IRQFD, ref irqfd), assign ? "ioctl(KVM_IRQFD)" : "ioctl(KVM_IRQFD, DEASSIGN)");
        }
        finally
        {
            if (added)
            {
                eventFd.DangerousRelease();
            }
        }
    }

    private void SetIoEvent(SafeFileHandle eventFd, ulong address, uint length, bool portIo, ulong? dataMatch, bool assign)
    {
        if (!assign && _vm.IsClosed)
        {
            return; // closing the VM fd dropped every ioeventfd
        }

        bool added = false;
        eventFd.DangerousAddRef(ref added);
        try
        {
            kvm_ioeventfd ioevent = new()
            {
                addr = address,
                len = length,
                fd = (int)eventFd.DangerousGetHandle(),
                datamatch = dataMatch ?? 0,
                flags = (portIo ? KVM_IOEVENTFD_FLAG_PIO : 0)
                    | (dataMatch.HasValue ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0)
                    | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
            };
            global::Interop.CheckIo(Ioctl(_vm, KVM_IOEVENTFD, ref ioevent), assign ? "ioctl(KVM_IOEVENTFD)" : "ioctl(KVM_IOEVENTFD, DEASSIGN)");
        }
        finally
        {
            if (added)
            {
                eventFd.DangerousRelease();
            }
        }
    }

    private sealed class Registration(Action remove) : IDisposable
    {
        private Action? _remove = remove;

        public void Dispose() => Interlocked.Exchange(ref _remove, null)?.Invoke();
    }

    private sealed record MemorySlot(ulong GuestAddress, ulong Size);
}
