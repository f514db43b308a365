using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioVsock.Protocol;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;

namespace Vmm.Plugins.VirtioVsock.Tests;

/// <summary>
/// A guest's vsock transport written the way Linux's virtio_transport drives the device: rx buffers posted ahead
/// (header and payload in one 4 KiB + 44 buffer), one tx request per packet, event buffers posted at start.
/// </summary>
internal sealed class GuestVsock : IDisposable
{
    public const ulong Cid = 3;
    public const int RxPayload = 4096;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private readonly InProcessMachine _machine = new();
    private readonly Dictionary<ushort, GuestBuffer> _rx = [];
    private readonly Dictionary<ushort, GuestBuffer> _events = [];

    public GuestVsock(string uds)
    {
        Uds = uds;
        Device = new VirtioVsockDevice("vsock0", Cid, uds, NullLoggerFactory.Instance);
        _machine.AttachVirtioDevice(Device);
        Driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Vsock);
        Driver.Initialize();
        PostEvents();
        PostRx(32);
    }

    public string Uds { get; }

    public VirtioVsockDevice Device { get; }

    public VirtioPciDriver Driver { get; }

    public static string TempSocketPath() => Path.Combine(Path.GetTempPath(), $"vsk-{Guid.NewGuid():N}"[..16] + ".sock");

    public static VsockHeader Packet(VsockOp op, uint guestPort, uint hostPort, uint length = 0, uint flags = 0, uint bufAlloc = 65536, uint fwdCnt = 0)
        => new(Cid, VsockLayout.HostCid, guestPort, hostPort, length, VsockSocketType.Stream, op, flags, bufAlloc, fwdCnt);

    public void PostRx(int count)
    {
        for (int i = 0; i < count; i++)
        {
            GuestBuffer buffer = _machine.AllocateBuffer(VsockHeader.Size + RxPayload);
            _rx[Driver.Submit(0, [], [buffer])] = buffer;
        }
    }

    public void PostEvents()
    {
        for (int i = 0; i < 4; i++)
        {
            GuestBuffer buffer = _machine.AllocateBuffer(VsockLayout.EventSize);
            _events[Driver.Submit(2, [], [buffer])] = buffer;
        }
    }

    /// <summary>Sends one packet on the tx queue, header and payload in separate descriptors, and waits until it is used.</summary>
    public void Send(VsockHeader header, ReadOnlySpan<byte> payload = default, int? headerBufferLength = null)
    {
        GuestBuffer head = _machine.AllocateBuffer((uint)(headerBufferLength ?? VsockHeader.Size));
        byte[] bytes = new byte[VsockHeader.Size];
        header.Write(bytes);
        _machine.Memory.Write(head.Address, bytes.AsSpan(0, (int)head.Length));
        if (payload.IsEmpty)
        {
            Driver.Submit(1, [head], []);
        }
        else
        {
            GuestBuffer body = _machine.AllocateBuffer((uint)payload.Length);
            _machine.Memory.Write(body.Address, payload);
            Driver.Submit(1, [head, body], []);
        }

        Driver.WaitForUsed(1, s_timeout);
    }

    /// <summary>Takes the next packet the device put on the rx queue and gives the buffer back.</summary>
    public (VsockHeader Header, byte[] Payload) Receive()
    {
        (ushort headIndex, uint length) = Driver.WaitForUsed(0, s_timeout);
        GuestBuffer buffer = _rx[headIndex];
        _rx.Remove(headIndex);
        Assert.True(length >= VsockHeader.Size, $"rx packet of {length} bytes");
        VsockHeader header = VsockHeader.Read(_machine.Memory.GetSpan(buffer.Address, VsockHeader.Size));
        Assert.Equal(header.Length + VsockHeader.Size, length);
        byte[] payload = _machine.Memory.GetSpan(buffer.Address + VsockHeader.Size, (int)header.Length).ToArray();
        _rx[Driver.Submit(0, [], [buffer])] = buffer;
        return (header, payload);
    }

    /// <summary>Receives until a packet with <paramref name="op"/> arrives; data packets on the way are collected.</summary>
    public VsockHeader ReceiveOp(VsockOp op, List<byte>? data = null)
    {
        while (true)
        {
            (VsockHeader header, byte[] payload) = Receive();
            if (header.Op == op)
            {
                return header;
            }

            data?.AddRange(payload);
        }
    }

    public uint WaitForEvent()
    {
        (ushort headIndex, _) = Driver.WaitForUsed(2, s_timeout);
        return BitConverter.ToUInt32(_machine.Memory.GetSpan(_events[headIndex].Address, 4));
    }

    public void Dispose()
    {
        Device.Dispose();
        _machine.Dispose();
    }
}
