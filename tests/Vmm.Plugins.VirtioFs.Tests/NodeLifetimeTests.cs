namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>An open handle keeps the node it was opened from, whatever the guest forgets (issue 18's fuzzing find).</summary>
public sealed class NodeLifetimeTests : IDisposable
{
    private readonly TempShare _share = new();

    public void Dispose() => _share.Dispose();

    [Fact]
    public void ReaddirplusOnADirectoryForgottenWhileOpenStillListsIt()
    {
        Directory.CreateDirectory(_share.InShare("dir"));
        File.WriteAllText(_share.InShare("dir/inside"), "x");
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();

        ulong dir = client.LookupNode(1, "dir");
        ulong fh = client.OpenDir(dir).Ok().U64(0);
        client.Forget(dir, 1);

        // The node id is gone, the open handle is not (virtiofsd's handles hold their inode the same way).
        Assert.Equal(-global::Interop.Errno.ENOENT, client.GetAttr(dir).Error);
        FuseReply listed = client.ReadDir(dir, fh, 0, 4096, plus: true).Ok();
        List<(string Name, ulong NodeId, ulong Offset, uint Type)> entries = FuseTestClient.ParseDirents(listed.Payload, plus: true);
        Assert.Contains(entries, e => e.Name == "inside" && e.NodeId > 1);
        client.Release(dir, fh, directory: true).Ok();

        // And a fresh lookup after all that is a new, working node.
        ulong again = client.LookupNode(1, "dir");
        Assert.NotEqual(dir, again);
        client.GetAttr(again).Ok();
    }

    [Fact]
    public void AFileForgottenWhileOpenStaysReadableUntilReleased()
    {
        File.WriteAllText(_share.InShare("file"), "still here");
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();

        ulong node = client.LookupNode(1, "file");
        ulong fh = client.Open(node, 0).Ok().U64(0);
        client.Forget(node, 1);
        Assert.Equal("still here"u8.ToArray(), client.Read(node, fh, 0, 100).Ok().Payload);
        client.Release(node, fh).Ok();
        Assert.Equal(-global::Interop.Errno.EBADF, client.Read(node, fh, 0, 100).Error);
    }
}
