using Vmm.Contracts.Devices;
using Vmm.Contracts.Gpu;
using Vmm.Core.Virtio.Pci;
using Vmm.Plugins.VirtioGpu;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;
using Vmm.Contracts.Virtio;
using Vmm.Testing.Virtio;

namespace Vmm.Plugins.CrossDomain.Testing;

/// <summary>
/// A guest with one virtio-gpu device and one cross-domain context on it (context 1, rings 1 and 2): the shape of most
/// protocol tests. Several contexts on one device: <see cref="CrossDomainGuestGpu"/> with <see cref="CrossDomainChannel"/>s.
/// </summary>
public sealed class CrossDomainGuest : IDisposable
{
    /// <summary>The context id of <see cref="Channel"/>.</summary>
    public const uint ContextId = 1;

    /// <summary>The query ring's resource id.</summary>
    public const uint QueryRingId = 1;

    /// <summary>The channel ring's resource id.</summary>
    public const uint ChannelRingId = 2;

    /// <summary>Creates the device and the (not yet opened) context.</summary>
    public CrossDomainGuest(IGpuContextType contextType, VirtioGpuOptions? options = null)
    {
        Gpu = new CrossDomainGuestGpu(contextType, options ?? new VirtioGpuOptions());
        Channel = new CrossDomainChannel(Gpu);
    }

    /// <summary>The device.</summary>
    public CrossDomainGuestGpu Gpu { get; }

    /// <summary>The one context.</summary>
    public CrossDomainChannel Channel { get; }

    /// <summary>The context type the device offers.</summary>
    public IGpuContextType Type => Gpu.Type;

    /// <summary>The in-process machine.</summary>
    public InProcessMachine Machine => Gpu.Machine;

    /// <summary>The virtio-gpu device.</summary>
    public IDevice Device => Gpu.Device;

    /// <summary>The virtio-pci transport (its shared memory holds the host-visible window when one was asked for).</summary>
    public VirtioPciTransport Transport => Gpu.Transport;

    /// <summary>The guest-side virtio driver.</summary>
    public VirtioPciDriver Driver => Gpu.Driver;

    /// <summary>The query ring's guest memory.</summary>
    public GuestBuffer QueryRing => Channel.QueryRing;

    /// <summary>The identifiers of every RECEIVE so far.</summary>
    public Queue<(uint Id, uint Type, uint Size)> ReceivedIdentifiers => Channel.ReceivedIdentifiers;

    /// <summary>See <see cref="CrossDomainChannel.Open"/>.</summary>
    public void Open(uint channelType) => Channel.Open(channelType);

    /// <summary>See <see cref="CrossDomainChannel.AttachRings"/>.</summary>
    public void AttachRings() => Channel.AttachRings();

    /// <summary>See <see cref="CrossDomainChannel.Poll"/>.</summary>
    public void Poll() => Channel.Poll();

    /// <summary>See <see cref="CrossDomainChannel.Send(ReadOnlySpan{byte})"/>.</summary>
    public void Send(ReadOnlySpan<byte> data) => Channel.Send(data);

    /// <summary>See <see cref="CrossDomainChannel.Receive"/>.</summary>
    public byte[] Receive(int count) => Channel.Receive(count);

    /// <summary>See <see cref="CrossDomainChannel.WaitForFutexSignal"/>.</summary>
    public void WaitForFutexSignal(uint id) => Channel.WaitForFutexSignal(id);

    /// <summary>See <see cref="CrossDomainChannel.WaitForRead"/>.</summary>
    public (uint Id, bool HangUp, byte[] Data) WaitForRead() => Channel.WaitForRead();

    /// <summary>See <see cref="CrossDomainChannel.PollReturned"/>.</summary>
    public bool PollReturned(TimeSpan timeout) => Channel.PollReturned(timeout);

    /// <summary>Sends a control command and waits; returns the response type.</summary>
    public uint Control(byte[] command) => Gpu.ControlType(command);

    /// <summary>Sends a control command and waits; returns the answer's bytes.</summary>
    public byte[] ControlResponse(byte[] command, int responseSize) => Gpu.Control(command, responseSize);

    /// <summary>SUBMIT_3D of <paramref name="stream"/> on the context (no fence); returns the response type.</summary>
    public uint Submit(byte[] stream) => Channel.Submit(stream);

    /// <inheritdoc />
    public void Dispose() => Gpu.Dispose();
}
