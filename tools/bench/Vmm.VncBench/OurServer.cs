using System.Net;
using Vmm.Contracts.Display;
using Vmm.Plugins.Display.Vnc;

namespace Vmm.VncBench;

/// <summary>
/// Our VNC sink, fed by a test display source in this process: the mode once, then one <see cref="DisplayFrame"/>
/// per frame with its damage rect, as the display router hands frames to a sink.
/// </summary>
internal sealed class OurServer : IFrameServer
{
    private readonly VncSink _sink = new("bench-vnc", new IPEndPoint(IPAddress.Loopback, 0));
    private readonly DisplayMode _mode;
    private readonly DamageRect[] _damage = new DamageRect[1];
    private ulong _sequence;

    public OurServer(int width, int height, byte[] first)
    {
        _mode = new DisplayMode(width, height, width * Frames.BytesPerPixel, PixelFormat.B8G8R8X8);
        _sink.OnModeChanged(_mode);
        Show(first, new DamageRect(0, 0, width, height));
    }

    public string Name => "vmm VncSink";

    public IPEndPoint EndPoint => _sink.LocalEndPoint;

    public void Show(byte[] pixels, DamageRect damage)
    {
        _damage[0] = damage;
        _sink.OnFrame(new DisplayFrame(_mode, pixels, _damage, ++_sequence));
    }

    public void Dispose() => _sink.Dispose();
}
