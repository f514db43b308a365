using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Pci;
using Vmm.Contracts.Virtio;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Diagnostics;
using Vmm.Core.Hosting;
using Vmm.Core.Memory;
using Vmm.Core.Plugins;
using Vmm.Core.Pci;
using Vmm.Core.Virtio.Pci;
using Vmm.Interop;
using Vmm.Kvm.Boot;
using Vmm.Kvm.Devices;
using Vmm.Kvm.Payloads;

namespace Vmm.Kvm.Platform;

/// <summary>
/// One VM of the <c>kvm</c> platform built from a <see cref="VmSpec"/>: guest RAM (below the 32-bit hole and above
/// 4 GiB), vCPUs, COM1 on IRQ 4 through the IOAPIC, the i8042 (reset ends the VM), the payload exit port, PCI bus 0
/// (conf1 and ECAM) with every virtio device behind a <see cref="VirtioPciTransport"/> whose MSI-X goes through
/// irqfds, whose doorbells are ioeventfds served by one <see cref="VirtioNotifyLoop"/>, and whose shared-memory
/// regions are memory slots that follow their BAR; and every plain PCI device (IVSHMEM) behind a
/// <see cref="PciDeviceAdapter"/>, its emulated BARs on the MMIO bus and each file-backed BAR a memory slot over a
/// shared mapping of the file that follows the BAR too.
/// </summary>
public sealed class KvmMachine : IControlledVm, IDisposable
{
    /// <summary>Where ECAM for bus 0 decodes (right after the 32-bit BAR window).</summary>
    public const ulong EcamAddress = 0xE000_0000;

    private readonly ILogger _logger;
    private readonly VmSpec _spec;
    private VmDeviceSet? _devices;
    private readonly List<(string Id, string Type, VirtioPciTransport Transport, object Options)> _transports = [];
    private readonly Dictionary<VirtioPciTransport, (SafeFileHandle[] EventFds, List<IDisposable> Registrations)> _notify = [];
    private readonly Dictionary<(VirtioPciTransport, int), int> _sharedMemorySlots = [];
    private readonly List<(string Id, string Type, PciDeviceAdapter Adapter)> _pciDevices = [];
    private readonly Dictionary<(PciDeviceAdapter, int), SafeMemoryMapping> _barFiles = [];
    private readonly Dictionary<(PciDeviceAdapter, int), int> _barFileSlots = [];
    private readonly Lock _barLock = new();
    private readonly VirtioNotifyLoop _notifyLoop = new();
    private readonly Stopwatch _uptime = new();
    private Thread? _inputThread;

    private KvmMachine(KvmSystem system, VmSpec spec, ILoggerFactory loggerFactory)
    {
        _spec = spec;
        _logger = loggerFactory.CreateLogger<KvmMachine>();
        (ulong Address, ulong Size)[] ram = BootLayout.RamRegions(spec.Machine.MemoryBytes);
        var regions = new GuestMemoryRegionSpec[ram.Length];
        for (int i = 0; i < ram.Length; i++)
        {
            regions[i] = new GuestMemoryRegionSpec(ram[i].Address, ram[i].Size);
        }

        Memory = GuestMemory.Create(regions);
        StartupTrace.Mark("guest RAM mapped");
        Vm = system.CreateVm();
        StartupTrace.Mark("VM created");
        Pci = new PciRoot(Vm.PortBus, Vm.MmioBus, BootLayout.PciWindows(spec.Machine.MemoryBytes));
    }

    /// <summary>The guest's RAM.</summary>
    public GuestMemory Memory { get; }

    /// <summary>The KVM VM.</summary>
    public KvmVm Vm { get; }

    /// <summary>PCI bus 0.</summary>
    public PciRoot Pci { get; }

    /// <summary>COM1.</summary>
    public Serial16550 Uart { get; private set; } = null!;

    /// <summary>Where and how the boot vCPU starts.</summary>
    public BootEntry Boot { get; private set; } = null!;

    /// <summary>The virtio transports, in config order.</summary>
    public IReadOnlyList<VirtioPciTransport> Transports => [.. _transports.Select(t => t.Transport)];

    /// <summary>The plain PCI devices (IVSHMEM), in config order.</summary>
    public IReadOnlyList<PciDeviceAdapter> PciDevices => [.. _pciDevices.Select(d => d.Adapter)];

    /// <summary>Doorbells that reached a device through an ioeventfd (without a vCPU exit).</summary>
    internal long NotifySignalCount => _notifyLoop.SignalCount;

    /// <summary>
    /// Builds the VM for <paramref name="spec"/> (kernel loaded, devices attached, vCPUs set) without starting it.
    /// </summary>
    /// <exception cref="BootImageException">The kernel or initrd cannot be loaded.</exception>
    public static KvmMachine Create(KvmSystem system, VmSpec spec, ILoggerFactory loggerFactory, KvmPlatformOptions options)
        => Create(system, spec, new VmRunContext(loggerFactory, EmptyPluginCatalog.Instance, new ControlCommandRegistry()), options);

    /// <summary>
    /// Builds the VM for <paramref name="spec"/> with the run's plugins, routers and control commands (kernel loaded,
    /// devices attached, vCPUs set) without starting it.
    /// </summary>
    /// <exception cref="BootImageException">The kernel or initrd cannot be loaded.</exception>
    public static KvmMachine Create(KvmSystem system, VmSpec spec, VmRunContext context, KvmPlatformOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ILoggerFactory loggerFactory = context.LoggerFactory;
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(options);
        if (spec.Machine.KernelPath is null)
        {
            throw new BootImageException("machine.kernel is not set; the kvm platform has no default kernel.");
        }

        KvmMachine machine = new(system, spec, loggerFactory);
        try
        {
            machine.Build(spec, context, options);
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>Starts the vCPUs, the notify loop and the console input pump.</summary>
    public void Start(Stream? consoleInput)
    {
        _notifyLoop.Start();
        _uptime.Start();
        Vm.Start();
        if (consoleInput is not null)
        {
            _inputThread = new Thread(() => PumpInput(consoleInput)) { IsBackground = true, Name = "console-input" };
            _inputThread.Start();
        }
    }

    /// <inheritdoc/>
    public VmStatus GetStatus() => new(
        Vm.IsStopRequested ? "stopping" : "running",
        "kvm",
        _uptime.Elapsed,
        _spec.Machine.Vcpus,
        _spec.Machine.MemoryBytes,
        [
            .. _transports.Select(t => new DeviceStatus(t.Id, t.Type, t.Transport.Worker.IsFailed ? "needs-reset" : t.Transport.Worker.IsActive ? "active" : "inactive", t.Options, t.Transport.Worker.FailureReason)),
            .. _pciDevices.Select(d => new DeviceStatus(d.Id, d.Type, d.Adapter.ConfigSpace.MemoryEnabled ? "active" : "inactive")),
        ]);

    /// <inheritdoc/>
    public void RequestStop() => Vm.RequestStop(new KvmVmExit(KvmVmExitKind.Stopped, "Stop requested."));

    /// <summary>Stops the vCPUs and devices and releases every fd, thread and mapping.</summary>
    public void Dispose()
    {
        Vm.Dispose();
        _notifyLoop.Dispose();
        lock (_barLock)
        {
            foreach ((_, List<IDisposable> registrations) in _notify.Values)
            {
                registrations.Clear(); // the VM fd is closed: KVM dropped them
            }
        }

        foreach ((_, _, VirtioPciTransport transport, _) in _transports)
        {
            transport.Dispose();
        }

        foreach ((_, _, PciDeviceAdapter adapter) in _pciDevices)
        {
            adapter.Dispose();
        }

        foreach (SafeMemoryMapping mapping in _barFiles.Values)
        {
            mapping.Dispose();
        }

        _devices?.Dispose();
        Memory.Dispose();
    }

    private void Build(VmSpec spec, VmRunContext context, KvmPlatformOptions options)
    {
        Vm.AddMemory(Memory);
        Stream? output = options.ConsoleOutput;
        Action<byte> write = output is null ? static _ => { } : output.WriteByte;
        if (StartupTrace.IsEnabled)
        {
            write = TraceFirstByte(write);
        }

        Uart = new Serial16550(write, () => Vm.PulseIrq(Serial16550.Com1Irq));
        Vm.PortBus.Register(Serial16550.Com1Port, Serial16550.PortCount, Uart);
        Vm.PortBus.Register(I8042Controller.DataPort, I8042Controller.PortCount, new I8042Controller(
            () => Vm.RequestStop(new KvmVmExit(KvmVmExitKind.GuestReset, "guest requested reset"))));
        Vm.PortBus.Register(GuestExitPort.DefaultPort, 1, new GuestExitPort(Vm));
        Vm.PortBus.Register(GuestExceptionPort.DefaultPort, 1, new GuestExceptionPort(Vm));
        Pci.RegisterConfigMechanisms(EcamAddress);
        Pci.BarMoved += OnBarMoved;
        AttachDevices(spec, context);
        StartupTrace.Mark("devices attached");

        string kernelPath = spec.Machine.KernelPath!;
        byte[] kernel = File.ReadAllBytes(kernelPath);
        byte[]? initrd = spec.Machine.InitrdPath is null ? null : File.ReadAllBytes(spec.Machine.InitrdPath);
        Boot = KernelLoader.Load(Memory, spec.Machine.MemoryBytes, spec.Machine.Vcpus, kernel, kernelPath, initrd, spec.Machine.CommandLine);
        StartupTrace.Mark("kernel loaded");
        for (int i = 0; i < spec.Machine.Vcpus; i++)
        {
            KvmVcpu vcpu = Vm.CreateVcpu();
            if (i == 0)
            {
                BootCpu.Configure(vcpu, Memory, Boot);
            }
        }

        StartupTrace.Mark("VM built (devices attached, kernel loaded, vCPUs set)");
        KvmPlatformLog.Booting(_logger, kernelPath, Boot.Mode, Boot.EntryPoint, spec.Machine.MemoryBytes, spec.Machine.Vcpus);
    }

    private void AttachDevices(VmSpec spec, VmRunContext context)
    {
        ILoggerFactory loggerFactory = context.LoggerFactory;
        _devices = VmDeviceSet.Create(spec, context);
        foreach ((DeviceSpec deviceSpec, IVirtioDevice virtio) in _devices.VirtioDevices)
        {
            VirtioPciTransport transport = new(virtio, Memory, Vm.MsiController, new VirtioPciTransportOptions { LoggerFactory = loggerFactory, Limits = deviceSpec.Limits });
            string id = deviceSpec.Id;
            transport.Worker.Failed += exception => KvmPlatformLog.DeviceFailed(_logger, id, exception.Message);
            _transports.Add((deviceSpec.Id, deviceSpec.Type, transport, deviceSpec.Options));
            SafeFileHandle[] eventFds = new SafeFileHandle[transport.Queues.Count];
            for (int queue = 0; queue < eventFds.Length; queue++)
            {
                ulong notifyOffset = (ulong)queue * VirtioPciLayout.NotifyOffMultiplier;
                eventFds[queue] = _notifyLoop.Add(() => transport.Notify(notifyOffset));
            }

            lock (_barLock)
            {
                _notify[transport] = (eventFds, []);
            }

            int slot = Pci.Attach(transport);
            KvmPlatformLog.DeviceAttached(_logger, deviceSpec.Id, deviceSpec.Type, slot);
        }

        foreach ((DeviceSpec deviceSpec, IPciDevice device) in _devices.PciDevices)
        {
            PciDeviceAdapter adapter = new(device, Memory, Vm.MsiController);
            _pciDevices.Add((deviceSpec.Id, deviceSpec.Type, adapter));
            foreach (PciBar bar in device.Bars)
            {
                if (bar.BackingFile is not null)
                {
                    // Mapped once for the VM's life; the memory slot over it follows the BAR (OnBarMoved).
                    lock (_barLock)
                    {
                        _barFiles[(adapter, bar.Index)] = HostMemory.MapShared(bar.BackingFile, bar.BackingFileOffset, bar.Size, writable: true);
                    }
                }
            }

            int slot = Pci.Attach(adapter);

            // As firmware (and QEMU's ivshmem realize) does: decoding on, so a guest with no driver for the device
            // (IVSHMEM mapped through sysfs resource2) reaches its BARs where they were placed.
            bool hasIoBar = device.Bars.Any(b => b.Kind == PciBarKind.IO);
            adapter.ConfigSpace.SetCommand((ushort)(PciIds.CommandMemorySpace | (hasIoBar ? PciIds.CommandIoSpace : 0)));
            adapter.Activate();
            KvmPlatformLog.DeviceAttached(_logger, deviceSpec.Id, deviceSpec.Type, slot);
        }
    }

    // Raised under the PCI configuration lock, from a vCPU thread (or from Attach while building).
    private void OnBarMoved(object? sender, PciBarMovedEventArgs e)
    {
        if (e.Function is PciDeviceAdapter adapter && !e.Bar.Emulated)
        {
            KvmPlatformLog.BarMoved(_logger, e.Bar.Index, e.Device, e.NewAddress ?? 0, e.OldAddress ?? 0);
            lock (_barLock)
            {
                MoveBarFileLocked(adapter, e.Bar.Index, e.NewAddress);
            }

            return;
        }

        if (e.Function is not VirtioPciTransport transport)
        {
            return;
        }

        KvmPlatformLog.BarMoved(_logger, e.Bar.Index, e.Device, e.NewAddress ?? 0, e.OldAddress ?? 0);
        lock (_barLock)
        {
            if (e.Bar.Index == VirtioPciLayout.RegistersBar && _notify.TryGetValue(transport, out var notify))
            {
                foreach (IDisposable registration in notify.Registrations)
                {
                    registration.Dispose();
                }

                notify.Registrations.Clear();
                if (e.NewAddress is ulong registers)
                {
                    for (int queue = 0; queue < notify.EventFds.Length; queue++)
                    {
                        ulong doorbell = registers + VirtioPciLayout.NotifyOffset + ((ulong)queue * VirtioPciLayout.NotifyOffMultiplier);
                        notify.Registrations.Add(Vm.RegisterIoEvent(notify.EventFds[queue], doorbell, 2, portIo: false));
                    }
                }
            }
            else if (e.Bar.Index == VirtioPciLayout.SharedMemoryBar)
            {
                MoveSharedMemoryLocked(transport, e.NewAddress);
            }
        }
    }

    private void MoveSharedMemoryLocked(VirtioPciTransport transport, ulong? barAddress)
    {
        for (int i = 0; i < transport.SharedMemory.Count; i++)
        {
            if (_sharedMemorySlots.Remove((transport, i), out int slot))
            {
                Vm.RemoveMemoryRegion(slot);
            }

            if (barAddress is ulong address && transport.SharedMemory[i] is SharedMemoryWindow window)
            {
                _sharedMemorySlots[(transport, i)] = Vm.AddMemoryRegion(address + transport.GetSharedMemoryOffset(i), window.Size, window.HostAddress);
            }
        }
    }

    private void MoveBarFileLocked(PciDeviceAdapter adapter, int barIndex, ulong? barAddress)
    {
        if (_barFileSlots.Remove((adapter, barIndex), out int slot))
        {
            Vm.RemoveMemoryRegion(slot);
        }

        if (barAddress is ulong address && _barFiles.TryGetValue((adapter, barIndex), out SafeMemoryMapping? mapping))
        {
            try
            {
                _barFileSlots[(adapter, barIndex)] = Vm.AddMemoryRegion(address, mapping.Length, mapping.Address);
            }
            catch (NativeCallException exception)
            {
                // The guest put the BAR over RAM or another slot: like an emulated BAR there, it decodes nothing.
                KvmPlatformLog.BarNotMapped(_logger, barIndex, adapter.Device.Id, address, exception.Message);
            }
        }
    }

    // With VMM_STARTUP_TRACE set: the first byte the guest sends on COM1 is the last start-up milestone.
    private static Action<byte> TraceFirstByte(Action<byte> write)
    {
        bool seen = false;
        return value =>
        {
            write(value);
            if (!seen)
            {
                seen = true;
                StartupTrace.Mark("first UART byte written");
                StartupTrace.Flush();
            }
        };
    }

    private void PumpInput(Stream input)
    {
        byte[] buffer = new byte[256];
        try
        {
            while (!Vm.IsStopRequested)
            {
                int read = input.Read(buffer);
                if (read <= 0)
                {
                    return;
                }

                Uart.EnqueueInput(buffer.AsSpan(0, read));
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // stdin closed: the guest just gets no more input
        }
    }
}
