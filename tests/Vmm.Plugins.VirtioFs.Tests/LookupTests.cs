namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// LOOKUP answers a name whose inode the guest already holds from a stat by name (no new O_PATH handle): the entry
/// is still the host's current one for that name, a held node is reused, a replaced name gives the new inode, and a
/// symlink is named, never followed.
/// </summary>
public sealed class LookupTests : IDisposable
{
    private const int EntryAttrIno = 40;
    private const int EntryAttrSize = 48;
    private const int EntryAttrMode = 100;

    private readonly TempShare _share = new();

    public void Dispose() => _share.Dispose();

    [Fact]
    public void AHeldNameIsAnsweredFromTheHostAsItIsNow()
    {
        string a = _share.InShare("a");
        File.WriteAllText(a, "first");
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();
        FuseReply first = client.Lookup(1, "a").Ok();
        ulong node = first.U64(0);

        // Held: the same node, with the size the file has now.
        File.WriteAllText(a, "second!");
        FuseReply again = client.Lookup(1, "a").Ok();
        Assert.Equal(node, again.U64(0));
        Assert.Equal(first.U64(EntryAttrIno), again.U64(EntryAttrIno));
        Assert.Equal(7UL, again.U64(EntryAttrSize));

        // Replaced on the host: a new inode under the old name is a new node.
        File.WriteAllText(_share.InShare("b"), "other");
        File.Move(_share.InShare("b"), a, overwrite: true);
        FuseReply replaced = client.Lookup(1, "a").Ok();
        Assert.NotEqual(node, replaced.U64(0));
        Assert.NotEqual(first.U64(EntryAttrIno), replaced.U64(EntryAttrIno));
        Assert.Equal(5UL, replaced.U64(EntryAttrSize));
        Assert.Equal(replaced.U64(0), client.LookupNode(1, "a"));

        // Gone: ENOENT, as the open would have said.
        File.Delete(a);
        Assert.Equal(-Errno.ENOENT, client.Lookup(1, "a").Error);
        Assert.Equal(-Errno.ENOENT, client.Lookup(1, "never-there").Error);
    }

    [Fact]
    public void AHeldSymlinkIsNamedNotFollowed()
    {
        File.WriteAllText(_share.InShare("target"), "data");
        File.CreateSymbolicLink(_share.InShare("link"), "target");
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();
        ulong target = client.LookupNode(1, "target");
        FuseReply first = client.Lookup(1, "link").Ok();
        FuseReply again = client.Lookup(1, "link").Ok();
        Assert.Equal(first.U64(0), again.U64(0));
        Assert.NotEqual(target, again.U64(0));
        Assert.Equal(0xA000u, again.U32(EntryAttrMode) & 0xF000u);
    }
}
