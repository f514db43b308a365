using System.Runtime.InteropServices;

internal static partial class Interop
{
    /// <summary>Socket-level constants for ancillary data (sys/socket.h, asm-generic/socket.h).</summary>
    internal static class SocketOptions
    {
        internal const int SOL_SOCKET = 1;
        internal const int SCM_RIGHTS = 1;
        internal const int MSG_TRUNC = 0x20;
        internal const int MSG_CTRUNC = 0x08;
        internal const int MSG_NOSIGNAL = 0x4000;
        internal const int MSG_CMSG_CLOEXEC = 0x40000000;
    }

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IoVector
    {
        internal void* iov_base;
        internal nuint iov_len;
    }

    /// <summary>struct msghdr (x86-64 layout: 56 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct MessageHeader
    {
        internal void* msg_name;
        internal uint msg_namelen;
        internal IoVector* msg_iov;
        internal nuint msg_iovlen;
        internal void* msg_control;
        internal nuint msg_controllen;
        internal int msg_flags;
    }

    /// <summary>struct cmsghdr; the data follows at <see cref="ControlMessageHeader.DataOffset"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ControlMessageHeader
    {
        internal nuint cmsg_len;
        internal int cmsg_level;
        internal int cmsg_type;

        /// <summary>CMSG_DATA offset: the header size rounded to the cmsg alignment (8 on x86-64).</summary>
        internal static int DataOffset => Align(sizeof(ulong) + (2 * sizeof(int)));

        /// <summary>CMSG_ALIGN.</summary>
        internal static int Align(int length) => (length + sizeof(ulong) - 1) & ~(sizeof(ulong) - 1);

        /// <summary>CMSG_SPACE.</summary>
        internal static int Space(int dataLength) => DataOffset + Align(dataLength);

        /// <summary>CMSG_LEN.</summary>
        internal static int Length(int dataLength) => DataOffset + dataLength;
    }
}
