using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Pci;
using Vmm.Plugins.VirtioGpu.Protocol;
using Vmm.Testing.Devices;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>
/// A virtio-gpu device behind the in-process PCI machine, and the guest side that speaks the control protocol to it
/// the way Linux's virtio_gpu driver does (one out buffer for the command, one in buffer sized to the response).
/// </summary>
internal sealed class GpuGuest : IDisposable
{
    // The device's own response values, under the short names the tests use.
    public const uint OkNoData = GpuResponseType.OkNoData;
    public const uint ErrUnspecified = GpuResponseType.ErrUnspecified;
    public const uint ErrOutOfMemory = GpuResponseType.ErrOutOfMemory;
    public const uint ErrInvalidScanoutId = GpuResponseType.ErrInvalidScanoutId;
    public const uint ErrInvalidResourceId = GpuResponseType.ErrInvalidResourceId;
    public const uint ErrInvalidContextId = GpuResponseType.ErrInvalidContextId;
    public const uint ErrInvalidParameter = GpuResponseType.ErrInvalidParameter;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    public GpuGuest(VirtioGpuOptions? options = null, ulong memorySize = InProcessMachine.DefaultMemorySize, IServiceProvider? services = null)
    {
        Machine = new InProcessMachine(memorySize);
        var factory = (IDeviceFactory)new VirtioGpuDeviceFactory();
        Device = (VirtioGpuDevice)factory.Create(
            new DeviceCreateContext("gpu0", NullLoggerFactory.Instance, null, services ?? EmptyServiceProvider.Instance, AppContext.BaseDirectory),
            options ?? new VirtioGpuOptions());
        Transport = Machine.AttachVirtioDevice(Device);
        Driver = VirtioPciDriver.Open(Machine, VirtioDeviceType.Gpu);
        Driver.Initialize();
    }

    public InProcessMachine Machine { get; }

    public VirtioGpuDevice Device { get; }

    /// <summary>The virtio-pci transport; its <c>SharedMemory</c> holds the host-visible window when one was asked for.</summary>
    public VirtioPciTransport Transport { get; }

    public VirtioPciDriver Driver { get; }

    /// <summary>Sends a control command; returns the response bytes the device wrote.</summary>
    public byte[] Send(ReadOnlySpan<byte> command, int responseSize = 24, params ReadOnlySpan<byte[]> payloads)
    {
        var readable = new List<GuestBuffer> { Copy(command) };
        foreach (byte[] payload in payloads)
        {
            readable.Add(Copy(payload));
        }

        GuestBuffer response = Machine.AllocateBuffer((uint)responseSize);
        Driver.Submit(0, readable.ToArray(), [response]);
        (_, uint length) = Driver.WaitForUsed(0, s_timeout);
        return Machine.Memory.GetSpan(response.Address, (int)length).ToArray();
    }

    /// <summary>Posts a control command without waiting; returns its response buffer.</summary>
    public GuestBuffer Post(ReadOnlySpan<byte> command, params ReadOnlySpan<byte[]> payloads)
    {
        var readable = new List<GuestBuffer> { Copy(command) };
        foreach (byte[] payload in payloads)
        {
            readable.Add(Copy(payload));
        }

        GuestBuffer response = Machine.AllocateBuffer(24);
        Driver.Submit(0, readable.ToArray(), [response]);
        return response;
    }

    /// <summary>Sends a command and returns the response type.</summary>
    public uint SendType(ReadOnlySpan<byte> command, params ReadOnlySpan<byte[]> payloads)
        => BinaryPrimitives.ReadUInt32LittleEndian(Send(command, 24, payloads));

    /// <summary>Sends a cursor command; returns the used length.</summary>
    public uint SendCursor(ReadOnlySpan<byte> command)
    {
        Driver.Submit(1, [Copy(command)], []);
        (_, uint length) = Driver.WaitForUsed(1, s_timeout);
        return length;
    }

    public GuestBuffer Copy(ReadOnlySpan<byte> bytes)
    {
        GuestBuffer buffer = Machine.AllocateBuffer((uint)Math.Max(1, bytes.Length));
        Machine.Memory.Write(buffer.Address, bytes);
        return buffer with { Length = (uint)bytes.Length };
    }

    public void Dispose() => Machine.Dispose();
}
