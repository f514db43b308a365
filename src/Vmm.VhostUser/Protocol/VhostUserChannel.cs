using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vmm.Interop;

namespace Vmm.VhostUser.Protocol;

/// <summary>
/// Frames vhost-user messages on a connected Unix stream socket, with descriptors passed as SCM_RIGHTS. Used by
/// both the back-end and the test front-end. Not thread-safe: one reader, one writer.
/// </summary>
internal sealed class VhostUserChannel : IDisposable
{
    /// <summary>The most descriptors one message may carry (8 memory regions).</summary>
    public const int MaxDescriptors = 8;

    private readonly Socket _socket;
    private readonly List<SafeFileHandle> _received = [];

    /// <summary>Wraps a connected socket; the channel owns it.</summary>
    public VhostUserChannel(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
    }

    /// <summary>The socket's handle, for waiting on it together with other descriptors.</summary>
    public SafeHandle Handle => _socket.SafeHandle;

    /// <summary>
    /// Reads the next message into <paramref name="message"/>. Returns false when the peer closed the connection
    /// between messages. A truncated message, a bad version, an oversize payload or too many descriptors throw
    /// <see cref="VhostUserProtocolException"/>; every descriptor received is in the message (and closed by it).
    /// </summary>
    public bool Receive(VhostUserMessage message)
    {
        message.Clear();
        Span<byte> header = stackalloc byte[VhostUserHeader.Length];
        if (!ReceiveExactly(header, message, allowEof: true))
        {
            return false;
        }

        message.Header = VhostUserHeader.Read(header);
        if ((message.Header.Flags & VhostUserHeader.VersionMask) != VhostUserHeader.Version)
        {
            throw new VhostUserProtocolException($"Message {message.Header.Request} has version {message.Header.Flags & VhostUserHeader.VersionMask}, expected {VhostUserHeader.Version}.");
        }

        if (message.Header.Size > VhostUserHeader.MaxPayloadSize)
        {
            throw new VhostUserProtocolException($"Message {message.Header.Request} declares a {message.Header.Size}-byte payload; the limit is {VhostUserHeader.MaxPayloadSize}.");
        }

        ReceiveExactly(message.PayloadBuffer[..(int)message.Header.Size], message, allowEof: false);
        return true;
    }

    /// <summary>Sends one message with optional descriptors.</summary>
    public void Send(VhostUserHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandle> descriptors = default)
    {
        if (payload.Length != header.Size || payload.Length > VhostUserHeader.MaxPayloadSize)
        {
            throw new ArgumentException("The payload length must match the header.", nameof(payload));
        }

        Span<byte> buffer = stackalloc byte[VhostUserHeader.Length + payload.Length];
        header.Write(buffer);
        payload.CopyTo(buffer[VhostUserHeader.Length..]);
        UnixSocketMessaging.Send(_socket.SafeHandle, buffer, descriptors);
    }

    /// <summary>Sends raw bytes (tests use this to send malformed messages).</summary>
    public void SendRaw(ReadOnlySpan<byte> bytes, ReadOnlySpan<SafeHandle> descriptors = default) =>
        UnixSocketMessaging.Send(_socket.SafeHandle, bytes, descriptors);

    /// <summary>Stops both directions, which wakes a thread blocked in <see cref="Receive"/>.</summary>
    public void Shutdown()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already disconnected.
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();

    private bool ReceiveExactly(Span<byte> destination, VhostUserMessage message, bool allowEof)
    {
        int done = 0;
        while (done < destination.Length)
        {
            int room = MaxDescriptors - message.DescriptorCount;
            SocketReceiveResult result = UnixSocketMessaging.Receive(_socket.SafeHandle, destination[done..], Math.Max(room, 0), _received);
            foreach (SafeFileHandle handle in _received)
            {
                message.Descriptors.Add(handle);
            }

            _received.Clear();
            if (result.ControlTruncated)
            {
                throw new VhostUserProtocolException($"The front-end sent more than {MaxDescriptors} descriptors with one message.");
            }

            if (result.ByteCount == 0)
            {
                if (allowEof && done == 0)
                {
                    return false;
                }

                throw new VhostUserProtocolException($"The connection closed in the middle of a message ({done} of {destination.Length} bytes).");
            }

            done += result.ByteCount;
        }

        return true;
    }
}
