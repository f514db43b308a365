using Vmm.Plugins.VirtioFs.Fuse;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// What a POSIX suite run in a guest found different from the C virtiofsd (issue 18): device nodes are made,
/// set-ID bits stay as the host kernel keeps them (killed on write, truncate and chown when the guest asks,
/// FUSE_HANDLE_KILLPRIV_V2), and the VMM's own umask never masks a guest's create.
/// </summary>
public sealed class PosixTests : IDisposable
{
    private const uint CharacterDevice = 0x2000;
    private const uint BlockDevice = 0x6000;
    private const uint RegularFile = 0x8000;
    private const uint Fifo = 0x1000;

    private readonly TempShare _share = new();

    public void Dispose() => _share.Dispose();

    [Fact]
    public void CharacterAndBlockDevicesAreMadeWithTheirNumbersButNeverOpened()
    {
        if (Interop.Getuid() != 0)
        {
            Assert.Skip("Making device nodes needs root (CAP_MKNOD).");
        }

        using FuseTestClient client = Start();
        FuseReply character = client.Send(FuseOpcode.MkNod, 1, MkNodIn(CharacterDevice | 0x1A4, (1 << 8) | 3, "null"));
        if (character.Error == -Errno.EPERM)
        {
            Assert.Skip("This host refuses mknod of devices to root (no CAP_MKNOD in this container).");
        }

        character.Ok();

        // Major 259, minor 300: the minor's high bits sit above the major in the kernel's 32-bit encoding.
        uint encoded = (300 & 0xFF) | (259 << 8) | ((300 & ~0xFFu) << 12);
        FuseReply block = client.Send(FuseOpcode.MkNod, 1, MkNodIn(BlockDevice | 0x1B0, encoded, "blk")).Ok();

        Assert.Equal(CharacterDevice | 0x1A4, Interop.ModeOf(_share.InShare("null")) & 0xFFFF);
        Assert.Equal(0x103UL, Interop.DeviceOf(_share.InShare("null")));
        Assert.Equal(BlockDevice | 0x1B0, Interop.ModeOf(_share.InShare("blk")) & 0xFFFF);
        Assert.Equal((259UL << 8) | (300 & 0xFF) | ((300UL & ~0xFFUL) << 12), Interop.DeviceOf(_share.InShare("blk")));
        Assert.Equal(encoded, block.U32(40 + 76));

        // The server never opens one: the guest kernel drives its own device for the node.
        Assert.Equal(-Errno.EACCES, client.Open(character.U64(0), 2).Error);
        Assert.Equal(-Errno.EACCES, client.Open(block.U64(0), 0).Error);
    }

    [Theory]
    [InlineData(0x123u, 0x45u)]
    [InlineData(0xFFFu, 0xFFFFFu)]
    [InlineData(0x1000u, 0x100u)]
    public void DeviceNumbersRoundTripBetweenTheKernelAndGlibcEncodings(uint major, uint minor)
    {
        ulong glibc = (((ulong)major & 0xFFFFF000) << 32) | ((major & 0xFFFUL) << 8) | (((ulong)minor & 0xFFFFFF00) << 12) | (minor & 0xFFUL);
        uint kernel = FuseWriter.EncodeDevice(glibc);
        if (major <= 0xFFF && minor <= 0xFFFFF)
        {
            Assert.Equal(glibc, FuseWriter.DecodeDevice(kernel));
        }
        else
        {
            // Past the 32-bit format's 12-bit major and 20-bit minor nothing can round-trip; decoding must still not throw.
            _ = FuseWriter.DecodeDevice(kernel);
        }
    }

    [Fact]
    public void ChmodKeepsSetUserAndSetGroupIdOnFilesAndDirectories()
    {
        using FuseTestClient client = Start();
        ulong file = client.Create(1, "prog", mode: RegularFile | 0x1ED).Ok().U64(0);
        ulong dir = client.MkDir(1, "shared").Ok().U64(0);

        Assert.Equal(0xDEDu, client.Send(FuseOpcode.SetAttr, file, SetAttrIn(FuseProtocol.FattrMode, mode: 0xDED)).Ok().U32(16 + 60) & 0xFFF);
        Assert.Equal(0x5EDu, client.Send(FuseOpcode.SetAttr, dir, SetAttrIn(FuseProtocol.FattrMode, mode: 0x5ED)).Ok().U32(16 + 60) & 0xFFF);
        Assert.Equal(0xDEDu, Interop.ModeOf(_share.InShare("prog")) & 0xFFF);
        Assert.Equal(0x5EDu, Interop.ModeOf(_share.InShare("shared")) & 0xFFF);
    }

    [Fact]
    public void SetIdBitsAreKilledOnWriteAndTruncateOnlyWhenTheGuestAsks()
    {
        using FuseTestClient client = Start(out FuseReply init);
        Assert.NotEqual(0u, init.U32(12) & (uint)FuseProtocol.HandleKillprivV2);
        FuseReply created = client.Create(1, "prog", mode: RegularFile | 0x1ED).Ok();
        ulong node = created.U64(0);
        ulong fh = created.U64(128);
        string host = _share.InShare("prog");

        // A writer with CAP_FSETID: the guest sets no flag and the bits stay.
        client.Send(FuseOpcode.SetAttr, node, SetAttrIn(FuseProtocol.FattrMode, mode: 0xDED)).Ok();
        client.Send(FuseOpcode.Write, node, WriteIn(fh, writeFlags: 0, "a"u8)).Ok();
        Assert.Equal(0xDEDu, Interop.ModeOf(host) & 0xFFF);

        // Without it: set-user-ID goes, and set-group-ID too because the group may execute.
        client.Send(FuseOpcode.Write, node, WriteIn(fh, FuseProtocol.WriteKillSuidgid, "b"u8)).Ok();
        Assert.Equal(0x1EDu, Interop.ModeOf(host) & 0xFFF);

        // Set-group-ID without group execute is a locking mark, not a privilege: it stays.
        client.Send(FuseOpcode.SetAttr, node, SetAttrIn(FuseProtocol.FattrMode, mode: 0xDE5)).Ok();
        client.Send(FuseOpcode.SetAttr, node, SetAttrIn(FuseProtocol.FattrSize | FuseProtocol.FattrKillSuidgid, mode: 0)).Ok();
        Assert.Equal(0x5E5u, Interop.ModeOf(host) & 0xFFF);
        Assert.Equal(0, new FileInfo(host).Length);
    }

    [Fact]
    public void TheVmmsUmaskNeverMasksAGuestCreate()
    {
        using FuseTestClient client = Start();
        client.MkDir(1, "open-dir", mode: 0x1FF).Ok();
        client.Create(1, "open-file", mode: RegularFile | 0x1B6).Ok();
        client.Send(FuseOpcode.MkNod, 1, MkNodIn(Fifo | 0x1B6, 0, "open-fifo")).Ok();

        // Whatever the test host's umask (022 usually), the guest's mode arrives as sent.
        Assert.Equal(0x1FFu, Interop.ModeOf(_share.InShare("open-dir")) & 0xFFF);
        Assert.Equal(0x1B6u, Interop.ModeOf(_share.InShare("open-file")) & 0xFFF);
        Assert.Equal(0x1B6u, Interop.ModeOf(_share.InShare("open-fifo")) & 0xFFF);
    }

    [Fact]
    public void TheUmaskOptionMasksGuestCreates()
    {
        using FuseTestClient client = Start(new VirtioFsOptions { Umask = "027" });
        client.MkDir(1, "dir", mode: 0x1FF).Ok();
        client.Create(1, "file", mode: RegularFile | 0x1B6).Ok();
        Assert.Equal(0x1E8u, Interop.ModeOf(_share.InShare("dir")) & 0xFFF);
        Assert.Equal(0x1A0u, Interop.ModeOf(_share.InShare("file")) & 0xFFF);
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("022", true)]
    [InlineData("0777", true)]
    [InlineData("1000", false)]
    [InlineData("8", false)]
    [InlineData("", false)]
    [InlineData("-1", false)]
    public void TheUmaskOptionIsOctalUpTo777(string text, bool valid)
        => Assert.Equal(valid, VirtioFsDeviceFactory.TryParseUmask(text, out _));

    private FuseTestClient Start(VirtioFsOptions? options = null) => Start(out _, options);

    private FuseTestClient Start(out FuseReply init, VirtioFsOptions? options = null)
    {
        FuseTestClient client = FuseTestClient.Start(_share.Share, options);
        init = client.Init().Ok();
        return client;
    }

    private static byte[] MkNodIn(uint mode, uint device, string name)
        => new FuseArgsBuilder().U32(mode).U32(device).U32(0).U32(0).Name(name).ToArray();

    private static byte[] SetAttrIn(uint valid, uint mode)
        => new FuseArgsBuilder().U32(valid).U32(0).U64(0).U64(0).U64(0).U64(0).U64(0).U64(0).U32(0).U32(0).U32(0).U32(mode).U32(0).U32(0).U32(0).U32(0).ToArray();

    private static byte[] WriteIn(ulong fh, uint writeFlags, ReadOnlySpan<byte> data)
        => new FuseArgsBuilder().U64(fh).U64(0).U32((uint)data.Length).U32(writeFlags).U64(0).U32(0).U32(0).Bytes(data).ToArray();
}
