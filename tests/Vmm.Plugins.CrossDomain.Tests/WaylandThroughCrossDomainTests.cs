using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Vmm.Plugins.CrossDomain.Host;
using Vmm.Plugins.CrossDomain.Testing;
using Vmm.Plugins.CrossDomain.Testing.Wayland;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// The Wayland channel against a real compositor (weston, headless): a guest client's wl_display requests reach it
/// through a cross-domain context and its events come back through the channel ring, the same as a client on the
/// compositor's socket itself sees them.
/// </summary>
public sealed class WaylandThroughCrossDomainTests(WestonServer weston) : IClassFixture<WestonServer>
{
    private const uint WaylandChannel = 0x0001;
    private const uint DisplayObject = 1;
    private const uint RegistryObject = 2;
    private const uint CallbackObject = 3;

    [Fact]
    public void A_guest_client_sees_the_compositors_globals_as_a_direct_client_does()
    {
        if (weston.SkipReason is string reason)
        {
            Assert.Skip(reason);
        }

        List<string> direct = DirectGlobals(weston.SocketPath);
        var settings = new CrossDomainSettings(wayland: DisplaySocket.ParseWayland(weston.SocketPath, null, out string? problem));
        Assert.Null(problem);
        using var gpu = new CrossDomainGuestGpu(new CrossDomainContextType(settings));
        using var channel = new CrossDomainChannel(gpu);
        channel.Open(WaylandChannel);
        channel.Send(GetRegistryAndSync());
        List<string> throughGuest = Globals(() => channel.Receive(8), count => channel.Receive(count));

        Assert.Contains("wl_compositor", throughGuest.Select(g => g.Split(' ')[0]));
        Assert.Contains("wl_shm", throughGuest.Select(g => g.Split(' ')[0]));
        Assert.Equal(direct, throughGuest);
    }

    /// <summary>wl_display.get_registry(new_id 2) and wl_display.sync(new_id 3), as every client starts.</summary>
    private static byte[] GetRegistryAndSync()
    {
        byte[] bytes = new byte[24];
        Request(bytes.AsSpan(0), DisplayObject, opcode: 1, RegistryObject);
        Request(bytes.AsSpan(12), DisplayObject, opcode: 0, CallbackObject);
        return bytes;
    }

    private static void Request(Span<byte> at, uint target, ushort opcode, uint argument)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(at, target);
        BinaryPrimitives.WriteUInt32LittleEndian(at[4..], (12u << 16) | opcode);
        BinaryPrimitives.WriteUInt32LittleEndian(at[8..], argument);
    }

    /// <summary>The same two requests straight on the compositor's socket, as a host client sends them.</summary>
    private static List<string> DirectGlobals(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.Send(GetRegistryAndSync());
        byte[] Read(int count)
        {
            byte[] buffer = new byte[count];
            for (int done = 0; done < count;)
            {
                int read = socket.Receive(buffer, done, count - done, SocketFlags.None);
                Assert.True(read > 0, "the compositor closed the connection");
                done += read;
            }

            return buffer;
        }

        return Globals(() => Read(8), Read);
    }

    /// <summary>Reads events until wl_callback.done; returns every wl_registry.global as "interface version".</summary>
    private static List<string> Globals(Func<byte[]> header, Func<int, byte[]> body)
    {
        List<string> globals = [];
        while (true)
        {
            byte[] head = header();
            uint sender = BinaryPrimitives.ReadUInt32LittleEndian(head);
            uint sizeAndOpcode = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(4));
            int size = (int)(sizeAndOpcode >> 16);
            Assert.InRange(size, 8, 4096);
            byte[] arguments = size > 8 ? body(size - 8) : [];
            ushort opcode = (ushort)sizeAndOpcode;
            if (sender == CallbackObject && opcode == 0)
            {
                return globals;
            }

            Assert.False(sender == DisplayObject && opcode == 0, "the compositor sent wl_display.error");
            if (sender == RegistryObject && opcode == 0)
            {
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(arguments.AsSpan(4));
                string name = Encoding.UTF8.GetString(arguments, 8, length - 1);
                uint version = BinaryPrimitives.ReadUInt32LittleEndian(arguments.AsSpan(8 + ((length + 3) & ~3)));
                globals.Add($"{name} {version}");
            }
        }
    }
}
