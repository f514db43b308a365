using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.CrossDomain.Host;
using Vmm.Plugins.CrossDomain.Protocol;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// The identifiers that are not memory, against a display server that passes descriptors: a pipe write end the
/// server sends becomes a WRITE_PIPE the guest WRITEs into (clipboard source); a READ_PIPE the guest names in a SEND
/// becomes a pipe whose write end the server gets and whose data comes back as READ (clipboard paste); an eventfd the
/// server sends becomes an EVENTFD that READ_EVENTFD_NEW polls (READ of the 8-byte counter) and WRITE signals (§2.7).
/// </summary>
public sealed class PipeAndEventfdIdentifierTests : IDisposable
{
    private readonly FakeDisplayServer _server = new();
    private readonly CrossDomainGuest _guest;

    public PipeAndEventfdIdentifierTests()
    {
        _guest = TestGuests.Create(new CrossDomainSettings(x11: new DisplaySocket("fake", [_server.Path])));
        _guest.Open((uint)CrossDomainChannelType.X11);
    }

    public void Dispose()
    {
        _guest.Dispose();
        _server.Dispose();
    }

    [Fact]
    public void A_write_pipe_from_the_server_takes_the_guests_writes_and_its_hang_up()
    {
        (SafeFileHandle readEnd, SafeFileHandle writeEnd) = Fd.Pipe();
        using (readEnd)
        {
            using (writeEnd)
            {
                _server.Client.Send("offer"u8, [writeEnd]);
            }

            Assert.Equal("offer"u8.ToArray(), _guest.Receive(5));
            (uint id, uint type, _) = Assert.Single(_guest.ReceivedIdentifiers);
            Assert.Equal((uint)CrossDomainIdentifierType.WritePipe, type);

            Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.WriteMessage(id, "clipboard text"u8)));
            Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.WriteMessage(id, "!"u8, hangUp: true)));
            Assert.Equal("clipboard text!", ReadToEnd(readEnd)); // the hang-up closed the host's last write end

            Assert.Equal(CrossDomainCommands.ErrInvalidParameter, _guest.Submit(CrossDomainCommands.WriteMessage(id, "late"u8)));
        }
    }

    [Fact]
    public void A_read_pipe_named_by_the_guest_reaches_the_server_and_its_data_comes_back_as_read()
    {
        const uint readPipe = 0x8000_0001; // the first id the guest predicts, as sommelier and muvm do
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, _guest.Submit(CrossDomainCommands.SendMessage("paste"u8, [(readPipe + 1, (uint)CrossDomainIdentifierType.ReadPipe)])));
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.SendMessage("paste"u8, [(readPipe, (uint)CrossDomainIdentifierType.ReadPipe)])));

        (byte[] data, List<SafeFileHandle> fds) = _server.Receive(5);
        Assert.Equal("paste"u8.ToArray(), data);
        using (SafeFileHandle writeEnd = Assert.Single(fds))
        {
            Assert.True(Fd.IsWriteOnly(writeEnd));
            Fd.WriteAll(writeEnd, "pasted bytes"u8);
        }

        var received = new List<byte>();
        while (true)
        {
            (uint id, bool hangUp, byte[] chunk) = _guest.WaitForRead();
            Assert.Equal(readPipe, id);
            received.AddRange(chunk);
            if (hangUp)
            {
                break;
            }
        }

        Assert.Equal("pasted bytes"u8.ToArray(), received.ToArray());
    }

    [Fact]
    public void An_eventfd_from_the_server_is_polled_after_read_eventfd_new_and_signalled_by_write()
    {
        const byte readEventfdNew = 11;
        // Two eventfds, as PipeWire passes them: one the guest waits on, one it signals (a polled one would be read back).
        using SafeFileHandle toGuest = NewEventfd();
        using SafeFileHandle toHost = NewEventfd();
        _server.Client.Send("e"u8, [toGuest, toHost]);
        Assert.Equal("e"u8.ToArray(), _guest.Receive(1));
        Assert.Equal(2, _guest.ReceivedIdentifiers.Count);
        (uint waited, uint waitedType, _) = _guest.ReceivedIdentifiers.Dequeue();
        (uint signalled, uint signalledType, _) = _guest.ReceivedIdentifiers.Dequeue();
        Assert.Equal(((uint)CrossDomainIdentifierType.Eventfd, (uint)CrossDomainIdentifierType.Eventfd), (waitedType, signalledType));

        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, _guest.Submit(CrossDomainCommands.IdCommand(readEventfdNew, signalled + 1)));
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.IdCommand(readEventfdNew, waited)));

        // Host → guest: the server signals; the guest reads the counter.
        Fd.WriteAll(toGuest, BitConverter.GetBytes(5UL));
        (uint readId, bool hangUp, byte[] counter) = _guest.WaitForRead();
        Assert.Equal((waited, false, 5UL), (readId, hangUp, BinaryPrimitives.ReadUInt64LittleEndian(counter)));

        // Guest → host: WRITE of an 8-byte counter (anything else is refused).
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, _guest.Submit(CrossDomainCommands.WriteMessage(signalled, "four"u8)));
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.WriteMessage(signalled, BitConverter.GetBytes(7UL))));
        byte[] value = new byte[8];
        Assert.Equal(8, Fd.Read(toHost, value));
        Assert.Equal(7UL, BinaryPrimitives.ReadUInt64LittleEndian(value));
    }

    private static SafeFileHandle NewEventfd() => Fd.Own(Tmds.Linux.LibC.eventfd(0, Tmds.Linux.LibC.EFD_CLOEXEC | Tmds.Linux.LibC.EFD_NONBLOCK));

    private static string ReadToEnd(SafeFileHandle readEnd)
    {
        var bytes = new List<byte>();
        byte[] buffer = new byte[256];
        int count;
        while ((count = Fd.Read(readEnd, buffer)) > 0)
        {
            bytes.AddRange(buffer.AsSpan(0, count));
        }

        return System.Text.Encoding.UTF8.GetString([.. bytes]);
    }
}
