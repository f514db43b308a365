using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Display;
using Vmm.Fuzz.Harness;
using Vmm.Plugins.Display.Vnc;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// RFB client messages: the input is everything a VNC client sends (version, security choice, ClientInit, then
/// SetPixelFormat, SetEncodings, update requests, key, pointer and cut-text messages), served by the display
/// plugin's VNC connection over a socket pair while the harness drains what the server sends back.
/// Expected: the connection ends at end of stream or on malformed data (it closes the client). A finding: any
/// exception out of the connection, or a connection still running 5 seconds after the client stopped sending.
/// </summary>
public sealed class RfbTarget : FuzzTarget
{
    private const int MaxInput = 256 * 1024;
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(5);

    private readonly SocketPairFactory _pairs = new(tcp: true);
    private readonly VncSink _sink = new("vnc0", new IPEndPoint(IPAddress.Loopback, 0));

    /// <summary>Gives the sink a small mode so update requests have pixels to send.</summary>
    public RfbTarget()
    {
        _sink.OnModeChanged(new DisplayMode(64, 48, 64 * 4, PixelFormat.B8G8R8A8));
    }

    /// <inheritdoc/>
    public override string Name => "rfb";

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        (Socket peer, Socket served) = _pairs.Create();
        using (peer)
        {
            byte[] bytes = input[..Math.Min(input.Length, MaxInput)].ToArray();
            Task drain = Task.Run(() => Drain(peer));
            Task send = Task.Run(() =>
            {
                try
                {
                    peer.Send(bytes);
                    peer.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // The server closed first.
                }
            });
            using var connection = new VncConnection(_sink, served, NullLogger.Instance);
            using var timeout = new CancellationTokenSource(s_limit);
            connection.RunAsync(timeout.Token).GetAwaiter().GetResult();
            if (timeout.IsCancellationRequested)
            {
                throw new FuzzFindingException("the connection was still running 5 s after the client stopped sending");
            }

            connection.Dispose();
            send.Wait();
            drain.Wait();
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sink.Dispose();
            _pairs.Dispose();
        }
    }

    private static void Drain(Socket peer)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (peer.Receive(buffer) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // The server reset the connection.
        }
    }
}
