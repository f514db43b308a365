using System.Net.Sockets;

namespace Vmm.Cli.Commands;

/// <summary>
/// Why a control socket could not be used, in words a user can act on. .NET reports connecting to a missing Unix
/// socket as "Cannot assign requested address" (it maps ENOENT to AddressNotAvailable), which names neither the
/// missing file nor what makes one.
/// </summary>
internal static class ControlSocketFailure
{
    /// <summary>The reason for <paramref name="ex"/>, raised while talking to the control socket at <paramref name="path"/>.</summary>
    public static string Describe(string path, Exception ex)
    {
        if (ex is SocketException socket)
        {
            if (!File.Exists(path))
            {
                return "no such socket; is the VM running? (its config's control.socket names the path)";
            }

            if (socket.SocketErrorCode == SocketError.ConnectionRefused)
            {
                return "nothing listens on it; the VM that made it has stopped";
            }
        }

        return ex.Message;
    }
}
