using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vmm.Interop;

/// <summary>The outcome of one <see cref="UnixSocketMessaging.Receive"/>.</summary>
/// <param name="ByteCount">Bytes received; 0 means the peer closed the connection.</param>
/// <param name="ControlTruncated">The peer sent more descriptors than allowed (MSG_CTRUNC); the extra ones were never installed.</param>
internal readonly record struct SocketReceiveResult(int ByteCount, bool ControlTruncated);

/// <summary>
/// Stream-socket I/O that carries file descriptors (SCM_RIGHTS). Every received descriptor is wrapped in a
/// <see cref="SafeFileHandle"/> before anything else can fail, so none leaks.
/// </summary>
internal static class UnixSocketMessaging
{
    /// <summary>The most descriptors one message may carry (vhost-user sends at most 8; leave room for a few more).</summary>
    internal const int MaxDescriptorsPerMessage = 16;

    /// <summary>
    /// Receives up to <paramref name="buffer"/>.Length bytes and at most <paramref name="maxDescriptors"/> descriptors,
    /// which are appended to <paramref name="descriptors"/> (close-on-exec). Blocks until data or EOF.
    /// </summary>
    internal static unsafe SocketReceiveResult Receive(SafeHandle socket, Span<byte> buffer, int maxDescriptors, List<SafeFileHandle> descriptors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDescriptors);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDescriptors, MaxDescriptorsPerMessage);
        int controlLength = maxDescriptors == 0 ? 0 : global::Interop.ControlMessageHeader.Space(maxDescriptors * sizeof(int));
        byte* control = stackalloc byte[Math.Max(controlLength, 1)];
        fixed (byte* data = buffer)
        {
            while (true)
            {
                var vector = new global::Interop.IoVector { iov_base = data, iov_len = (nuint)buffer.Length };
                var message = new global::Interop.MessageHeader
                {
                    msg_iov = &vector,
                    msg_iovlen = 1,
                    msg_control = controlLength == 0 ? null : control,
                    msg_controllen = (nuint)controlLength,
                };
                nint received = global::Interop.RecvMsg(socket, &message, global::Interop.SocketOptions.MSG_CMSG_CLOEXEC);
                if (received < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == global::Interop.Errno.EINTR)
                    {
                        continue;
                    }

                    if (errno == global::Interop.Errno.EAGAIN)
                    {
                        WaitReadable(socket);
                        continue;
                    }

                    global::Interop.ThrowForErrno(errno, "recvmsg");
                }

                CollectDescriptors(control, (int)message.msg_controllen, descriptors);
                bool truncated = (message.msg_flags & global::Interop.SocketOptions.MSG_CTRUNC) != 0;
                return new SocketReceiveResult((int)received, truncated);
            }
        }
    }

    /// <summary>Sends all of <paramref name="data"/>, with <paramref name="descriptors"/> attached to its first byte.</summary>
    internal static unsafe void Send(SafeHandle socket, ReadOnlySpan<byte> data, ReadOnlySpan<SafeHandle> descriptors)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(descriptors.Length, MaxDescriptorsPerMessage);
        if (data.IsEmpty)
        {
            throw new ArgumentException("Descriptors must travel with at least one byte.", nameof(data));
        }

        int controlLength = descriptors.IsEmpty ? 0 : global::Interop.ControlMessageHeader.Space(descriptors.Length * sizeof(int));
        byte* control = stackalloc byte[Math.Max(controlLength, 1)];
        new Span<byte>(control, Math.Max(controlLength, 1)).Clear();
        int referenced = 0;
        try
        {
            if (controlLength != 0)
            {
                var header = (global::Interop.ControlMessageHeader*)control;
                header->cmsg_len = (nuint)global::Interop.ControlMessageHeader.Length(descriptors.Length * sizeof(int));
                header->cmsg_level = global::Interop.SocketOptions.SOL_SOCKET;
                header->cmsg_type = global::Interop.SocketOptions.SCM_RIGHTS;
                int* fds = (int*)(control + global::Interop.ControlMessageHeader.DataOffset);
                for (int i = 0; i < descriptors.Length; i++)
                {
                    bool added = false;
                    descriptors[i].DangerousAddRef(ref added);
                    referenced++;
                    fds[i] = (int)descriptors[i].DangerousGetHandle();
                }
            }

            fixed (byte* bytes = data)
            {
                int sent = 0;
                while (sent < data.Length)
                {
                    var vector = new global::Interop.IoVector { iov_base = bytes + sent, iov_len = (nuint)(data.Length - sent) };
                    bool first = sent == 0;
                    var message = new global::Interop.MessageHeader
                    {
                        msg_iov = &vector,
                        msg_iovlen = 1,
                        msg_control = first && controlLength != 0 ? control : null,
                        msg_controllen = first ? (nuint)controlLength : 0,
                    };
                    nint result = global::Interop.SendMsg(socket, &message, global::Interop.SocketOptions.MSG_NOSIGNAL);
                    if (result < 0)
                    {
                        int errno = Marshal.GetLastPInvokeError();
                        if (errno == global::Interop.Errno.EINTR)
                        {
                            continue;
                        }

                        global::Interop.ThrowForErrno(errno, "sendmsg");
                    }

                    sent += (int)result;
                }
            }
        }
        finally
        {
            for (int i = 0; i < referenced; i++)
            {
                descriptors[i].DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Waits until one of <paramref name="handles"/> is readable, has hung up or failed, or the timeout passes.
    /// Returns a bit mask of the ready entries (at most 64 handles).
    /// </summary>
    internal static unsafe ulong WaitAny(ReadOnlySpan<SafeHandle> handles, int timeoutMilliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(handles.Length, 64);
        global::Interop.PollDescriptor* descriptors = stackalloc global::Interop.PollDescriptor[handles.Length];
        int referenced = 0;
        try
        {
            for (int i = 0; i < handles.Length; i++)
            {
                bool added = false;
                handles[i].DangerousAddRef(ref added);
                referenced++;
                descriptors[i] = new global::Interop.PollDescriptor { fd = (int)handles[i].DangerousGetHandle(), events = global::Interop.PollEvents.POLLIN };
            }

            int ready;
            do
            {
                ready = global::Interop.Poll(descriptors, (nuint)handles.Length, timeoutMilliseconds);
            }
            while (ready < 0 && Marshal.GetLastPInvokeError() == global::Interop.Errno.EINTR);
            global::Interop.CheckIo(ready, "poll");

            ulong mask = 0;
            for (int i = 0; i < handles.Length; i++)
            {
                if (descriptors[i].revents != 0)
                {
                    mask |= 1UL << i;
                }
            }

            return mask;
        }
        finally
        {
            for (int i = 0; i < referenced; i++)
            {
                handles[i].DangerousRelease();
            }
        }
    }

    private static void WaitReadable(SafeHandle socket)
    {
        ReadOnlySpan<SafeHandle> one = [socket];
        WaitAny(one, -1);
    }

    private static unsafe void CollectDescriptors(byte* control, int controlLength, List<SafeFileHandle> descriptors)
    {
        int offset = 0;
        int headerSize = global::Interop.ControlMessageHeader.DataOffset;
        while (offset + headerSize <= controlLength)
        {
            var header = (global::Interop.ControlMessageHeader*)(control + offset);
            int length = (int)header->cmsg_len;
            if (length < headerSize || offset + length > controlLength)
            {
                break;
            }

            if (header->cmsg_level == global::Interop.SocketOptions.SOL_SOCKET && header->cmsg_type == global::Interop.SocketOptions.SCM_RIGHTS)
            {
                int count = (length - headerSize) / sizeof(int);
                int* fds = (int*)(control + offset + headerSize);
                for (int i = 0; i < count; i++)
                {
                    descriptors.Add(new SafeFileHandle(fds[i], ownsHandle: true));
                }
            }

            offset += global::Interop.ControlMessageHeader.Align(length);
        }
    }
}
