using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Pci;
using Vmm.Contracts.Virtio;
using Vmm.Core.Bus;
using Vmm.Core.Memory;
using Vmm.Core.Pci;
using Vmm.Core.Virtio.Execution;
using Vmm.Core.Virtio.Pci;
using Vmm.Testing.Virtio;

namespace Vmm.Testing.InProcess;

/// <summary>
/// A VM without vCPUs, for tests: guest memory, a port-I/O bus and an MMIO bus, PCI bus 0 with mechanism #1 and
/// ECAM, and an MSI controller that records interrupts. Attach devices, then drive them with
/// <see cref="Driver.VirtioPciDriver"/> exactly as a Linux guest would, through port and MMIO accesses.
/// </summary>
public sealed class InProcessMachine : IDisposable
{
    /// <summary>The default guest memory size (64 MiB).</summary>
    public const ulong DefaultMemorySize = 64UL << 20;

    /// <summary>Where ECAM is mapped.</summary>
    public const ulong EcamBase = 0xE000_0000;

    /// <summary>Where the driver's allocations start (below is left for tests that want fixed addresses).</summary>
    public const ulong AllocatorStart = 1UL << 20;

    private readonly List<IDisposable> _owned = [];
    private readonly ILoggerFactory? _loggerFactory;

    /// <summary>Creates the machine with <paramref name="memorySize"/> bytes of guest RAM at address 0.</summary>
    public InProcessMachine(ulong memorySize = DefaultMemorySize, ILoggerFactory? loggerFactory = null)
    {
        _loggerFactory = loggerFactory;
        Memory = GuestMemory.Create(memorySize);
        PortIo = new AddressBus("pio");
        Mmio = new AddressBus("mmio");
        Pci = new PciRoot(PortIo, Mmio, PciWindows.Default);
        Pci.RegisterConfigMechanisms(EcamBase);
        Msi = new InProcessMsiController();
        Allocator = new GuestMemoryAllocator(Memory, AllocatorStart, memorySize);
    }

    /// <summary>Guest RAM.</summary>
    public GuestMemory Memory { get; }

    /// <summary>The port-I/O bus (0xCF8 config ports, I/O BARs).</summary>
    public AddressBus PortIo { get; }

    /// <summary>The MMIO bus (ECAM, memory BARs).</summary>
    public AddressBus Mmio { get; }

    /// <summary>PCI bus 0.</summary>
    public PciRoot Pci { get; }

    /// <summary>Records every MSI and wakes waiters.</summary>
    public InProcessMsiController Msi { get; }

    /// <summary>Hands out guest memory for rings and buffers.</summary>
    public GuestMemoryAllocator Allocator { get; }

    /// <summary>
    /// Devices attached from now on run on the thread that drives them (no worker thread): a kick returns once the
    /// device handled it. For fuzz harnesses, which need one input to take one path every time.
    /// </summary>
    public bool SynchronousDevices { get; set; }

    /// <summary>Puts <paramref name="device"/> behind a virtio-pci transport in the next free slot.</summary>
    public VirtioPciTransport AttachVirtioDevice(IVirtioDevice device) => AttachVirtioDevice(device, limits: null);

    /// <summary>
    /// Puts a virtio device in the next free slot; its worker fails it past <paramref name="limits"/> (a hang, or
    /// descriptors, threads or memory it keeps), <see cref="DeviceLimits.Default"/> when null.
    /// </summary>
    public VirtioPciTransport AttachVirtioDevice(IVirtioDevice device, DeviceLimits? limits)
    {
        var transport = new VirtioPciTransport(device, Memory, Msi, new VirtioPciTransportOptions { LoggerFactory = _loggerFactory, SynchronousWorker = SynchronousDevices, Limits = limits });
        _owned.Add(transport);
        Pci.Attach(transport);
        return transport;
    }

    /// <summary>Puts a plugin's plain PCI device in the next free slot and activates it.</summary>
    public PciDeviceAdapter AttachPciDevice(IPciDevice device)
    {
        var adapter = new PciDeviceAdapter(device, Memory, Msi);
        _owned.Add(adapter);
        Pci.Attach(adapter);
        adapter.Activate();
        return adapter;
    }

    /// <summary>Allocates a guest buffer of <paramref name="length"/> bytes (16-byte aligned).</summary>
    public GuestBuffer AllocateBuffer(uint length) => new(Allocator.Allocate(length, 16), length);

    /// <summary>An <c>in</c> of 1, 2 or 4 bytes.</summary>
    public uint In(ushort port, int size)
    {
        Span<byte> data = stackalloc byte[4];
        PortIo.Read(port, data[..size]);
        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    /// <summary>An <c>out</c> of 1, 2 or 4 bytes.</summary>
    public void Out(ushort port, int size, uint value)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        PortIo.Write(port, data[..size]);
    }

    /// <summary>An MMIO read of 1, 2, 4 or 8 bytes.</summary>
    public ulong ReadMmio(ulong address, int size)
    {
        Span<byte> data = stackalloc byte[8];
        data.Clear();
        Mmio.Read(address, data[..size]);
        return BinaryPrimitives.ReadUInt64LittleEndian(data);
    }

    /// <summary>An MMIO write of 1, 2, 4 or 8 bytes.</summary>
    public void WriteMmio(ulong address, int size, ulong value)
    {
        Span<byte> data = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(data, value);
        Mmio.Write(address, data[..size]);
    }

    /// <summary>Stops every device worker and frees guest memory.</summary>
    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        Memory.Dispose();
    }
}
