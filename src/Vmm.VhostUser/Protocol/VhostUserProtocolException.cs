using Vmm.Contracts;

namespace Vmm.VhostUser.Protocol;

/// <summary>The front-end broke the vhost-user protocol. The connection is closed; the server goes on.</summary>
public sealed class VhostUserProtocolException : VmmException
{
    /// <summary>Creates the exception.</summary>
    public VhostUserProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public VhostUserProtocolException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
