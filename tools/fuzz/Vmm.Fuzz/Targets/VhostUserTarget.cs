using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Execution;
using Vmm.Fuzz.Harness;
using Vmm.Plugins.VirtioInput;
using Vmm.VhostUser.Backend;
using Vmm.VhostUser.Protocol;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// The vhost-user message stream: the input is what a front-end writes on the socket (headers and payloads, no file
/// descriptors), served by a back-end session over a virtio-input device exactly as the server serves one
/// connection. Expected: the session ends at end of stream, or on a typed protocol error (it NACKs and returns).
/// A finding: any exception out of the session, a device failure that is not a typed protocol error.
/// </summary>
public sealed class VhostUserTarget : FuzzTarget
{
    private const int MaxInput = 64 * 1024;

    private readonly SocketPairFactory _pairs = new();
    private readonly ExceptionRecordingLoggerFactory _log = new();
    private readonly IVirtioDevice _device;
    private readonly VirtioDeviceWorker _worker;

    /// <summary>Makes the device and its worker once, as the server does.</summary>
    public VhostUserTarget()
    {
        IDeviceFactory factory = new VirtioInputDeviceFactory();
        var context = new DeviceCreateContext("input0", _log, null, new ServiceCollection().BuildServiceProvider(), Path.GetTempPath());
        _device = (IVirtioDevice)factory.Create(context, new VirtioInputOptions { Kind = "mouse" });
        _worker = new VirtioDeviceWorker(_device, _log);
    }

    /// <inheritdoc/>
    public override string Name => "vhost-user";

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        (Socket peer, Socket served) = _pairs.Create();
        using (peer)
        {
            peer.ReceiveBufferSize = 1 << 20;
            served.SendBufferSize = 1 << 20;
            peer.Send(input[..Math.Min(input.Length, MaxInput)]);
            peer.Shutdown(SocketShutdown.Send);
            using var channel = new VhostUserChannel(served);
            using var session = new VhostUserSession(channel, _device, _worker, _log.CreateLogger("vhost-user"));
            session.Run();
        }

        foreach ((string category, Exception exception) in _log.Drain())
        {
            if (!DeviceRig.IsExpected(exception) && exception is not VhostUserProtocolException and not Vmm.Interop.NativeCallException)
            {
                throw new FuzzFindingException($"{category} logged {exception.GetType().Name}: {exception.Message}", exception);
            }
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _worker.Dispose();
            _device.Dispose();
            _pairs.Dispose();
        }
    }
}
