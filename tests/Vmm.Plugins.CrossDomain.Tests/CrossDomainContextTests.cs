using System.Buffers.Binary;
using Vmm.Plugins.CrossDomain.Host;
using Vmm.Plugins.CrossDomain.Protocol;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// The context through virtio-gpu, no display server needed: the capset, image requirements answered in the query
/// ring and imported as a HOST3D blob, and hostile commands answered with ERR_INVALID_PARAMETER while the device
/// and the context go on working.
/// </summary>
public sealed class CrossDomainContextTests : IDisposable
{
    private const uint NoChannel = 0;
    private readonly CrossDomainGuest _guest = TestGuests.Create(new CrossDomainSettings(x11: new DisplaySocket("test", ["/nonexistent/X9"])));

    public void Dispose() => _guest.Dispose();

    [Fact]
    public void The_capset_is_offered_as_id_5_with_the_configured_channels()
    {
        Span<byte> config = stackalloc byte[16];
        _guest.Driver.ReadDeviceConfig(0, config);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(config[12..]));
        byte[] info = _guest.ControlResponse(CrossDomainCommands.Command(0x0108, 32, 0), 40);
        Assert.Equal((0x1102u, 5u, 0u, 16u), (U32(info, 0), U32(info, 24), U32(info, 28), U32(info, 32)));

        byte[] capset = _guest.ControlResponse(CrossDomainCommands.Command(0x0109, 32, 0, (24, 5), (28, 0)), 24 + 16);
        Assert.Equal(0x1103u, U32(capset, 0));
        Assert.Equal((1u, 1u << 0x11, 0u, 0u), (U32(capset, 24), U32(capset, 28), U32(capset, 32), U32(capset, 36)));
    }

    [Fact]
    public void Image_requirements_come_back_in_the_query_ring_and_import_as_a_host_blob()
    {
        _guest.Open(NoChannel);
        byte[] request = new byte[24];
        request[0] = 2;
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), 24);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), 100);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(12), 30);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(16), 0x34325258); // XR24
        // Fenced on the query ring, as sommelier does: the answer is there when the fence signals.
        _guest.Gpu.Control(CrossDomainCommands.Submit3d(CrossDomainGuest.ContextId, request, flags: 3, fence: 90, ring: 0));

        byte[] reply = _guest.Machine.Memory.GetSpan(_guest.QueryRing.Address, 64).ToArray();
        Assert.Equal(400u, U32(reply, 0));
        Assert.Equal(12000UL, BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(40)));
        uint blobId = U32(reply, 48);
        Assert.Equal(2u, blobId); // host item ids are pre-incremented from 1, as libkrun's
        Assert.Equal(1u, U32(reply, 52)); // map_info CACHED

        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Control(HostBlob(10, blobId, 12000)));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, _guest.Control(HostBlob(11, blobId, 4096)));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, _guest.Control(HostBlob(12, 77, 4096)));
    }

    [Fact]
    public void Hostile_commands_are_refused_and_the_device_goes_on()
    {
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Control(CrossDomainCommands.CreateContext(CrossDomainGuest.ContextId, 5)));
        uint Submit(byte[] stream) => _guest.Submit(stream);

        // Before INIT, and INIT with rings that are not attached.
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.SendMessage("x"u8, [])));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.Init(1, 2, NoChannel)));
        _guest.AttachRings();
        // A channel that is not configured, and one whose socket is not there.
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.Init(1, 2, (uint)CrossDomainChannelType.Wayland)));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.Init(1, 2, (uint)CrossDomainChannelType.X11)));
        Assert.Equal(CrossDomainCommands.OkNoData, Submit(CrossDomainCommands.Init(1, 2, NoChannel)));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.Init(1, 2, NoChannel)));

        // SEND without a channel; identifiers that do not exist; WRITE to nothing; futexes with no export table.
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(CrossDomainCommands.SendMessage("x"u8, [])));
        byte[] write = new byte[32];
        write[0] = 7;
        BinaryPrimitives.WriteUInt16LittleEndian(write.AsSpan(2), 32);
        BinaryPrimitives.WriteUInt32LittleEndian(write.AsSpan(8), 1234);
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(write));
        byte[] futex = new byte[32];
        futex[0] = 8;
        BinaryPrimitives.WriteUInt16LittleEndian(futex.AsSpan(2), 32);
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(futex));
        byte[] unknown = new byte[16];
        unknown[0] = 0xEE;
        BinaryPrimitives.WriteUInt16LittleEndian(unknown.AsSpan(2), 16);
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit(unknown));
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, Submit([1, 0, 0xFF, 0x7F, 0, 0, 0, 0]));

        // The device still answers, and the context still serves a POLL that CTX_DESTROY then returns.
        Assert.Equal(0x1101u, U32(_guest.ControlResponse(CrossDomainCommands.Command(0x0100, 24, 0), 408), 0));
        _guest.Poll();
        Assert.Equal(CrossDomainCommands.OkNoData, _guest.Control(CrossDomainCommands.Command(0x0201, 24, CrossDomainGuest.ContextId)));
        Assert.True(_guest.PollReturned(TimeSpan.FromSeconds(10)), "the parked POLL was not returned at CTX_DESTROY");
    }

    /// <summary>RESOURCE_CREATE_BLOB(HOST3D, MAPPABLE|SHAREABLE) of a host item, with no guest pages.</summary>
    private static byte[] HostBlob(uint resourceId, uint blobId, ulong size)
    {
        byte[] bytes = CrossDomainCommands.Command(0x010C, 56, CrossDomainGuest.ContextId, (24, resourceId), (28, 2), (32, 3));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(40), blobId);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(48), size);
        return bytes;
    }

    private static uint U32(byte[] bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));
}
