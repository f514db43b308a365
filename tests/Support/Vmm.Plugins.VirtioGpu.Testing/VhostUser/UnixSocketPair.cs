using System.Net.Sockets;

namespace Vmm.Plugins.VirtioGpu.Testing.VhostUser;

/// <summary>Two connected Unix stream sockets through a listener on a temporary path (.NET has no socketpair).</summary>
internal static class UnixSocketPair
{
    public static (Socket Left, Socket Right) Create()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vmm-pair-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            listener.Listen(1);
            var left = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                left.Connect(new UnixDomainSocketEndPoint(path));
                return (left, listener.Accept());
            }
            catch
            {
                left.Dispose();
                throw;
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
