using System.Net;
using Vmm.Contracts.Display;

namespace Vmm.VncBench;

/// <summary>A VNC server under test and the way frames reach its framebuffer.</summary>
internal interface IFrameServer : IDisposable
{
    string Name { get; }

    IPEndPoint EndPoint { get; }

    /// <summary>Puts <paramref name="damage"/> of <paramref name="pixels"/> on the server's framebuffer; returns once the server holds it.</summary>
    void Show(byte[] pixels, DamageRect damage);
}
