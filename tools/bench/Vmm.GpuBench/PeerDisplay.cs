using Vmm.Plugins.VirtioGpu.Testing.VhostUser;

namespace Vmm.GpuBench;

/// <summary>The display for QEMU's back-end: the vhost-user-gpu display peer, one frame per UPDATE.</summary>
internal sealed class PeerDisplay(VhostUserGpuDisplayPeer peer) : IBenchDisplay
{
    public long Frames => peer.Updates + peer.DmabufUpdates;

    public bool WaitForFrames(long count, TimeSpan timeout)
    {
        bool shown = peer.WaitForUpdates(count, timeout);
        if (!shown && peer.IsClosed)
        {
            throw new InvalidOperationException($"The display socket closed: {peer.Failure?.Message ?? "the back-end hung up"}.");
        }

        return shown;
    }

    public (byte[] Pixels, int Width, int Height) CopyFrame() => peer.CopyFrame();
}
