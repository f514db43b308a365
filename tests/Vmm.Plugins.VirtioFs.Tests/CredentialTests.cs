using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// Creates run with the guest caller's ids as the calling thread's file-system ids (as the C virtiofsd does): the
/// new node's owner comes from the kernel, and so does the permission check in the parent directory.
/// </summary>
public sealed class CredentialTests : IDisposable
{
    private const uint S_IFIFO = 0x1000;

    private readonly TempShare _share = new();

    public void Dispose() => _share.Dispose();

    [Fact]
    public void EveryKindOfCreateBelongsToTheCaller()
    {
        RequireRootWithSetIdCapabilities();
        File.SetUnixFileMode(_share.Share, (UnixFileMode)0x1FF);
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();

        FuseReply file = client.Send(FuseOpcode.Create, 1, new FuseArgsBuilder().U32(0x42).U32(0x81A4).U32(0).U32(0).Name("file").ToArray(), uid: 1000, gid: 1000).Ok();
        client.Send(FuseOpcode.MkDir, 1, new FuseArgsBuilder().U32(0x1ED).U32(0).Name("dir").ToArray(), uid: 1000, gid: 1000).Ok();
        client.Send(FuseOpcode.MkNod, 1, new FuseArgsBuilder().U32(S_IFIFO | 0x1A4).U32(0).U32(0).U32(0).Name("fifo").ToArray(), uid: 1000, gid: 1000).Ok();
        client.Send(FuseOpcode.Symlink, 1, new FuseArgsBuilder().Name("link").Name("file").ToArray(), uid: 1000, gid: 1000).Ok();

        foreach (string name in new[] { "file", "dir", "fifo", "link" })
        {
            Assert.Equal((1000u, 1000u), (Interop.OwnerOf(_share.InShare(name)), Interop.GroupOf(_share.InShare(name))));
        }

        Assert.Equal(1000u, file.U32(40 + 68));
        Assert.Equal(1000u, file.U32(40 + 72));
    }

    [Fact]
    public void TheKernelChecksTheCallersPermissionInTheParent()
    {
        RequireRootWithSetIdCapabilities();

        // A root-owned 0755 directory: only root may create in it. Nothing in the server checks modes, so an
        // EACCES here can only come from the host kernel checking uid 1000.
        Directory.CreateDirectory(_share.InShare("rootonly"));
        File.SetUnixFileMode(_share.InShare("rootonly"), (UnixFileMode)0x1ED);
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();
        ulong directory = client.LookupNode(1, "rootonly");

        byte[] create = new FuseArgsBuilder().U32(0x42).U32(0x81A4).U32(0).U32(0).Name("denied").ToArray();
        Assert.Equal(-Errno.EACCES, client.Send(FuseOpcode.Create, directory, create, uid: 1000, gid: 1000).Error);
        Assert.Equal(-Errno.EACCES, client.Send(FuseOpcode.MkDir, directory, new FuseArgsBuilder().U32(0x1ED).U32(0).Name("d").ToArray(), uid: 1000, gid: 1000).Error);
        Assert.False(File.Exists(_share.InShare("rootonly/denied")));

        // Root may, and the thread is back to root afterwards: the next create is root's again.
        client.Send(FuseOpcode.Create, directory, create, uid: 0, gid: 0).Ok();
        Assert.Equal(0u, Interop.OwnerOf(_share.InShare("rootonly/denied")));
    }

    [Fact]
    public void ASetGroupIdDirectoryGivesItsGroupAsTheKernelDoes()
    {
        RequireRootWithSetIdCapabilities();
        Directory.CreateDirectory(_share.InShare("team"));
        Interop.ChangeOwner(_share.InShare("team"), 0, 4321);
        File.SetUnixFileMode(_share.InShare("team"), (UnixFileMode)0xDFF); // 02777
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();
        ulong team = client.LookupNode(1, "team");

        client.Send(FuseOpcode.Create, team, new FuseArgsBuilder().U32(0x42).U32(0x81A4).U32(0).U32(0).Name("f").ToArray(), uid: 1000, gid: 1000).Ok();
        Assert.Equal((1000u, 4321u), (Interop.OwnerOf(_share.InShare("team/f")), Interop.GroupOf(_share.InShare("team/f"))));
    }

    [Fact]
    public void AnUnmappedCallerCannotCreate()
    {
        RequireRootWithSetIdCapabilities();
        File.SetUnixFileMode(_share.Share, (UnixFileMode)0x1FF);
        var options = new VirtioFsOptions
        {
            UidMap = [new VirtioFsIdMapping { Guest = 1000, Host = 5000, Count = 1 }],
            GidMap = [new VirtioFsIdMapping { Guest = 1000, Host = 5000, Count = 1 }],
        };
        using FuseTestClient client = FuseTestClient.Start(_share.Share, options);
        client.Init().Ok();

        byte[] create = new FuseArgsBuilder().U32(0x42).U32(0x81A4).U32(0).U32(0).Name("f").ToArray();
        Assert.Equal(-Errno.EOVERFLOW, client.Send(FuseOpcode.Create, 1, create, uid: 7, gid: 7).Error);
        client.Send(FuseOpcode.Create, 1, create, uid: 1000, gid: 1000).Ok();
        Assert.Equal((5000u, 5000u), (Interop.OwnerOf(_share.InShare("f")), Interop.GroupOf(_share.InShare("f"))));
    }

    [Fact]
    public void SwitchingIsPerThreadAndRestored()
    {
        RequireRootWithSetIdCapabilities();

        // On a thread of its own: a thread created while another's ids are switched inherits them, so the test
        // runner's threads must never be the switched ones.
        uint whileSwitched = uint.MaxValue;
        uint switchedThread = uint.MaxValue;
        uint afterRestore = uint.MaxValue;
        bool switchedOk = false;
        using var switched = new ManualResetEventSlim();
        using var observed = new ManualResetEventSlim();
        var switcher = new Thread(() =>
        {
            switchedOk = HostCredentials.TrySwitch(1000, 1000, out uint previousUid, out uint previousGid);
            switchedThread = HostCredentials.CurrentFsUid;
            switched.Set();
            observed.Wait();
            HostCredentials.Restore(previousUid, previousGid);
            afterRestore = HostCredentials.CurrentFsUid;
        });
        switcher.Start();
        switched.Wait(TestContext.Current.CancellationToken);
        whileSwitched = HostCredentials.CurrentFsUid;
        observed.Set();
        switcher.Join();

        Assert.True(switchedOk);
        Assert.Equal(1000u, switchedThread);
        Assert.Equal(0u, whileSwitched);
        Assert.Equal(0u, afterRestore);
    }

    [Fact]
    public void DroppingSupplementaryGroupsTouchesOnlyTheCallingThread()
    {
        RequireRootWithSetIdCapabilities();
        IReadOnlyList<uint>? inside = null;
        var dropper = new Thread(() =>
        {
            HostCredentials.DropSupplementaryGroupsOfThisThread();
            inside = HostCredentials.SupplementaryGroupsOfThisThread();
        });
        IReadOnlyList<uint> before = HostCredentials.SupplementaryGroupsOfThisThread();
        dropper.Start();
        dropper.Join();
        Assert.Empty(inside!);
        Assert.Equal(before, HostCredentials.SupplementaryGroupsOfThisThread());
    }

    private static void RequireRootWithSetIdCapabilities()
    {
        if (Interop.Getuid() != 0 || !HostCredentials.CanSwitch)
        {
            Assert.Skip("Creating as the guest caller needs root with CAP_SETUID and CAP_SETGID.");
        }
    }
}
