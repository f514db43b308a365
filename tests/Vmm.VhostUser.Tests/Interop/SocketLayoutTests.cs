using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Vmm.Core.Hosting;

namespace Vmm.VhostUser.Tests.Interop;

/// <summary>Checks the socket interop's struct layouts and constants against the C headers by compiling C with gcc.</summary>
public sealed class SocketLayoutTests
{
    [Fact]
    public void Socket_structs_and_constants_match_the_c_headers()
    {
        string? gcc = ExecutableSearch.FindOnPath("gcc");
        if (gcc is null)
        {
            Assert.Skip("gcc is not installed; the C layout check needs it (tools/install-deps.sh installs it).");
        }

        var c = new StringBuilder();
        c.AppendLine("#define _GNU_SOURCE");
        c.AppendLine("#include <stddef.h>");
        c.AppendLine("#include <sys/socket.h>");
        c.AppendLine("#include <sys/uio.h>");
        c.AppendLine("#include <poll.h>");
        Size<global::Interop.IoVector>(c, "struct iovec");
        Offset<global::Interop.IoVector>(c, "struct iovec", "iov_base", "iov_len");
        Size<global::Interop.MessageHeader>(c, "struct msghdr");
        Offset<global::Interop.MessageHeader>(c, "struct msghdr", "msg_name", "msg_namelen", "msg_iov", "msg_iovlen", "msg_control", "msg_controllen", "msg_flags");
        Size<global::Interop.ControlMessageHeader>(c, "struct cmsghdr");
        Offset<global::Interop.ControlMessageHeader>(c, "struct cmsghdr", "cmsg_len", "cmsg_level", "cmsg_type");
        Size<global::Interop.PollDescriptor>(c, "struct pollfd");
        Offset<global::Interop.PollDescriptor>(c, "struct pollfd", "fd", "events", "revents");
        Value(c, "SOL_SOCKET", global::Interop.SocketOptions.SOL_SOCKET);
        Value(c, "SCM_RIGHTS", global::Interop.SocketOptions.SCM_RIGHTS);
        Value(c, "MSG_TRUNC", global::Interop.SocketOptions.MSG_TRUNC);
        Value(c, "MSG_CTRUNC", global::Interop.SocketOptions.MSG_CTRUNC);
        Value(c, "MSG_NOSIGNAL", global::Interop.SocketOptions.MSG_NOSIGNAL);
        Value(c, "MSG_CMSG_CLOEXEC", global::Interop.SocketOptions.MSG_CMSG_CLOEXEC);
        Value(c, "POLLIN", global::Interop.PollEvents.POLLIN);
        Value(c, "POLLERR", global::Interop.PollEvents.POLLERR);
        Value(c, "POLLHUP", global::Interop.PollEvents.POLLHUP);
        Value(c, "POLLNVAL", global::Interop.PollEvents.POLLNVAL);
        Value(c, "CMSG_LEN(0)", global::Interop.ControlMessageHeader.Length(0));
        Value(c, "CMSG_LEN(3 * sizeof(int))", global::Interop.ControlMessageHeader.Length(3 * sizeof(int)));
        Value(c, "CMSG_SPACE(3 * sizeof(int))", global::Interop.ControlMessageHeader.Space(3 * sizeof(int)));
        Value(c, "CMSG_SPACE(8 * sizeof(int))", global::Interop.ControlMessageHeader.Space(8 * sizeof(int)));

        string file = Path.Combine(Path.GetTempPath(), $"vmm-socket-layout-{Guid.NewGuid():N}.c");
        File.WriteAllText(file, c.ToString());
        try
        {
            var start = new ProcessStartInfo(gcc, ["-fsyntax-only", "-std=c11", file]) { RedirectStandardError = true, UseShellExecute = false };
            using Process process = Process.Start(start)!;
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"gcc rejected the layout checks:\n{errors}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static void Size<T>(StringBuilder c, string cType)
        where T : unmanaged =>
        c.AppendLine($"_Static_assert(sizeof({cType}) == {Unsafe.SizeOf<T>()}, \"sizeof {cType}\");");

    private static void Offset<T>(StringBuilder c, string cType, params string[] fields)
        where T : unmanaged
    {
        foreach (string field in fields)
        {
            c.AppendLine($"_Static_assert(offsetof({cType}, {field}) == {Marshal.OffsetOf<T>(field)}, \"{cType}.{field}\");");
        }
    }

    private static void Value(StringBuilder c, string expression, long value) =>
        c.AppendLine($"_Static_assert(({expression}) == {value}, \"{expression}\");");
}
