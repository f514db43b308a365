using System.Net.Sockets;

namespace Vmm.VhostUser.Tests;

/// <summary>Two connected Unix stream sockets (a listener on a temporary path; .NET has no socketpair).</summary>
internal static class SocketPair
{
    public static (Socket Left, Socket Right) Create()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vmm-vu-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var left = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        left.Connect(new UnixDomainSocketEndPoint(path));
        Socket right = listener.Accept();
        File.Delete(path);
        return (left, right);
    }
}
