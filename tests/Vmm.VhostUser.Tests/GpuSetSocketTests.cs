using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using Vmm.Interop;
using Vmm.Testing.VhostUser;
using Vmm.VhostUser.Protocol;

namespace Vmm.VhostUser.Tests;

/// <summary>What the test front-end puts on the wire for VHOST_USER_GPU_SET_SOCKET.</summary>
public sealed class GpuSetSocketTests
{
    [Fact]
    public void Set_socket_is_request_33_with_one_descriptor_and_no_ack_request()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vmm-gpu-set-socket-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            listener.Listen(1);
            using VhostUserFrontend frontend = VhostUserFrontend.Connect(path);
            using var backend = new VhostUserChannel(listener.Accept());
            (Socket display, Socket handedOver) = SocketPair.Create();
            using (display)
            using (handedOver)
            {
                frontend.SetGpuSocket(handedOver);
                using var message = new VhostUserMessage();
                Assert.True(backend.Receive(message));
                Assert.Equal(new VhostUserHeader(VhostUserRequest.GpuSetSocket, VhostUserHeader.Version, 0), message.Header);
                Assert.Equal(33u, (uint)message.Header.Request);
                Assert.Equal(1, message.DescriptorCount);

                // The descriptor is the socket itself: what the back-end writes through it reaches the display end.
                using SafeFileHandle received = message.TakeDescriptor(0);
                UnixSocketMessaging.Send(received, "ping"u8, default);
                byte[] bytes = new byte[4];
                display.ReceiveTimeout = 10_000;
                Assert.Equal(4, display.Receive(bytes));
                Assert.Equal("ping"u8.ToArray(), bytes);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
