using Vmm.Plugins.CrossDomain.Host;
using Vmm.Plugins.CrossDomain.Protocol;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// The context's worker keeps the host socket in its poll set between the guest's POLLs (a new POLL needs no wake),
/// and stops polling it while bytes wait for a POLL: bytes that come while no POLL is parked are delivered when the
/// next one comes, in order, one channel message per POLL.
/// </summary>
public sealed class ChannelPollTests : IDisposable
{
    private readonly FakeDisplayServer _server = new();
    private readonly CrossDomainGuest _guest;

    public ChannelPollTests()
    {
        _guest = TestGuests.Create(new CrossDomainSettings(x11: new DisplaySocket("fake", [_server.Path])));
    }

    public void Dispose()
    {
        _guest.Dispose();
        _server.Dispose();
    }

    [Fact]
    public void Bytes_the_host_sends_while_no_poll_is_parked_come_with_the_next_poll()
    {
        // INIT without a POLL: the worker polls the socket with no fence to answer.
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Control(CrossDomainCommands.CreateContext(CrossDomainGuest.ContextId, 5)));
        _guest.AttachRings();
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Submit(CrossDomainCommands.Init(CrossDomainGuest.QueryRingId, CrossDomainGuest.ChannelRingId, (uint)CrossDomainChannelType.X11)));
        _server.Client.Send("early"u8, []);

        // Give the worker time to find the bytes with no fence parked (the path under test; nothing is timed).
        Thread.Sleep(200);
        _guest.Poll();
        Assert.Equal("early"u8.ToArray(), _guest.Receive(5));

        // Then the usual way round (a POLL is parked, TryWaitForMessage posted it), and again with none parked.
        _server.Client.Send("second"u8, []);
        Assert.Equal("second"u8.ToArray(), _guest.Receive(6));
        _guest.Send("ping"u8);
        Assert.Equal("ping"u8.ToArray(), _server.Receive(4).Data);
        _server.Client.Send("third"u8, []);
        Assert.Equal("third"u8.ToArray(), _guest.Receive(5));
    }

    [Fact]
    public void Forwarded_sends_reach_the_host_in_order_and_a_refused_one_is_reported_by_a_later_forward()
    {
        _guest.Open((uint)CrossDomainChannelType.X11);
        byte[] data = new byte[100_000];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i * 7);
        }

        // 27 SENDs posted without waiting for their answers, several forwards in a row.
        _guest.Channel.Forward(data.AsSpan(0, 60_000), []);
        _guest.Channel.Forward(data.AsSpan(60_000), []);
        Assert.Equal(data, _server.Receive(data.Length).Data);

        // A SEND naming a resource the context does not have is refused; the guest hears of it on a later forward.
        _guest.Channel.Forward("x"u8, [(999, CrossDomainCommands.IdVirtgpuBlob)]);
        var refused = Assert.Throws<CrossDomainGuestException>(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                _guest.Channel.Forward("y"u8, []);
            }
        });
        Assert.Contains("SEND", refused.Message, StringComparison.Ordinal);
    }
}
