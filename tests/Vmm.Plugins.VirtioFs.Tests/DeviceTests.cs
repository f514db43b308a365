using System.Buffers.Binary;
using System.Text;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Testing.Devices;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>What the guest's virtio-fs probe sees, INIT negotiation, and option validation.</summary>
public sealed class DeviceTests : IDisposable
{
    private readonly TempShare _share = new();

    public void Dispose() => _share.Dispose();

    [Fact]
    public void ConfigCarriesTheTagAndQueueCount()
    {
        using FuseTestClient client = FuseTestClient.Start(_share.Share, new VirtioFsOptions { Tag = "myfs", NumRequestQueues = 2 });
        Assert.Equal(0x105A, client.Driver.Function.DeviceId);
        Assert.Equal(3, client.Driver.QueueCount);
        byte[] config = new byte[40];
        client.Driver.ReadDeviceConfig(0, config);
        Assert.Equal("myfs", Encoding.UTF8.GetString(config, 0, 36).TrimEnd('\0'));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(config.AsSpan(36)));
        Assert.Equal(0ul, client.Driver.NegotiatedFeatures & 1);
    }

    [Fact]
    public void AThirtySixByteTagFillsTheFieldWithoutANul()
    {
        string tag = new('t', 36);
        using FuseTestClient client = FuseTestClient.Start(_share.Share, new VirtioFsOptions { Tag = tag });
        byte[] config = new byte[36];
        client.Driver.ReadDeviceConfig(0, config);
        Assert.Equal(tag, Encoding.UTF8.GetString(config));
    }

    [Fact]
    public void InitRepliesWithOurVersionAndOnlyFlagsBothSidesKnow()
    {
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        FuseReply init = client.Init(flags: 0x7BFF_FFFB).Ok();
        Assert.Equal(64, init.Payload.Length);
        Assert.Equal(7u, init.U32(0));
        Assert.Equal(36u, init.U32(4));
        uint flags = init.U32(12);
        Assert.Equal(flags, flags & 0x7BFF_FFFBu);
        Assert.NotEqual(0u, flags & (1u << 22));
        Assert.Equal(0u, flags & (1u << 1));
        Assert.Equal(0u, flags & (1u << 16));
        Assert.Equal(1u << 20, init.U32(20));
        Assert.Equal(256, BinaryPrimitives.ReadUInt16LittleEndian(init.Payload.AsSpan(28)));

        // An old kernel offering few flags gets only those.
        Assert.Equal(1u, client.Init(flags: 1).Ok().U32(12));
        Assert.Equal(-Errno.EPROTO, client.Init(major: 6).Error);
        Assert.Equal(7u, client.Init(major: 8).Ok().U32(0));
    }

    [Fact]
    public void ASecondInitStartsANewSession()
    {
        File.WriteAllText(_share.InShare("a"), "x");
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();
        ulong node = client.LookupNode(1, "a");
        ulong fh = client.Open(node, 0).Ok().U64(0);
        client.Send(FuseOpcode.Destroy, 0, []).Ok();
        Assert.Equal(-Errno.EIO, client.GetAttr(node).Error);
        client.Init().Ok();
        Assert.Equal(-Errno.ENOENT, client.GetAttr(node).Error);
        Assert.Equal(-Errno.EBADF, client.Read(node, fh, 0, 1).Error);
    }

    [Fact]
    public void TheFactoryValidatesEveryOption()
    {
        IDeviceFactory factory = new VirtioFsDeviceFactory();
        var context = new DeviceOptionsValidationContext("$.devices[0].options", _share.Root);
        factory.Validate(new VirtioFsOptions
        {
            SharedDir = "missing",
            Tag = "bad tag",
            NumRequestQueues = 0,
            RequestPollMicroseconds = -1,
            Cache = "sometimes",
            Dax = new VirtioFsDaxOptions { WindowSize = 4096 },
            UidMap = [new VirtioFsIdMapping { Guest = 0, Host = 1000, Count = 0 }],
        }, context);
        Assert.Equal(
            ["$.devices[0].options.sharedDir", "$.devices[0].options.tag", "$.devices[0].options.numRequestQueues", "$.devices[0].options.requestPollMicroseconds",
             "$.devices[0].options.cache",
             "$.devices[0].options.dax.windowSize", "$.devices[0].options.uidMap[0]"],
            context.Errors.Select(e => e.Path));

        var ok = new DeviceOptionsValidationContext("$.devices[0].options", _share.Root);
        factory.Validate(new VirtioFsOptions { SharedDir = "share", Tag = "share-1.x" }, ok);
        Assert.Empty(ok.Errors);

        using IDevice device = factory.Create(new DeviceCreateContext("fs", Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, null,
            EmptyServiceProvider.Instance, _share.Root), new VirtioFsOptions { SharedDir = "share" });
        Assert.Equal(VirtioDeviceType.FileSystem, Assert.IsType<VirtioFsDevice>(device).DeviceType);
    }

    [Fact]
    public void IdMapsTranslateOwnersBothWays()
    {
        if (Interop.Getuid() != 0)
        {
            Assert.Skip("Giving new files the caller's ids needs root (the test runs unprivileged).");
        }

        File.WriteAllText(_share.InShare("a"), "x");

        // The create runs as the mapped caller (4243), so the kernel wants the share writable by it.
        File.SetUnixFileMode(_share.Share, (UnixFileMode)0x1FF);
        var options = new VirtioFsOptions
        {
            UidMap = [new VirtioFsIdMapping { Guest = 0, Host = 0 }, new VirtioFsIdMapping { Guest = 1000, Host = 4242, Count = 10 }],
            GidMap = [new VirtioFsIdMapping { Guest = 0, Host = 0 }, new VirtioFsIdMapping { Guest = 1000, Host = 4242, Count = 10 }],
        };
        using FuseTestClient client = FuseTestClient.Start(_share.Share, options);
        client.Init().Ok();
        Assert.Equal(0u, client.GetAttr(client.LookupNode(1, "a")).Ok().U32(16 + 68));

        // A create by guest uid 1001 makes a host file owned by 4243, shown back to the guest as 1001.
        byte[] create = new FuseArgsBuilder().U32(0x42).U32(0x81A4).U32(0).U32(0).Name("b").ToArray();
        FuseReply created = client.Send(FuseOpcode.Create, 1, create, uid: 1001, gid: 1001).Ok();
        Assert.Equal(4243u, Interop.OwnerOf(_share.InShare("b")));
        Assert.Equal(1001u, created.U32(40 + 68));

        // chown to an unmapped guest id is refused; to a mapped one lands on the host id.
        byte[] chownUnmapped = new FuseArgsBuilder().U32(2).U32(0).Zeros(68).U32(5).U32(0).U32(0).ToArray();
        Assert.Equal(-Errno.EINVAL, client.Send(FuseOpcode.SetAttr, created.U64(0), chownUnmapped).Error);
        byte[] chownMapped = new FuseArgsBuilder().U32(2).U32(0).Zeros(68).U32(1005).U32(0).U32(0).ToArray();
        Assert.Equal(1005u, client.Send(FuseOpcode.SetAttr, created.U64(0), chownMapped).Ok().U32(16 + 68));
        Assert.Equal(4247u, Interop.OwnerOf(_share.InShare("b")));
    }
}
