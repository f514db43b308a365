using System.Text;
using Vmm.Plugins.VirtioFs.Fuse;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// A read-only share of the host's "/" (as muvm boots a guest on the host's root): everything is inside, so no
/// escape is possible, but the kernel's own file systems mounted in it (procfs, sysfs, ...) must stay out of
/// reach: /proc/&lt;our pid&gt;/mem, /proc/self/fd, /proc/kcore are views of this process and the host kernel.
/// </summary>
public sealed class RootShareTests : IDisposable
{
    private readonly FuseTestClient _client;

    public RootShareTests()
    {
        _client = FuseTestClient.Start("/", new VirtioFsOptions { ReadOnly = true });
        _client.Init().Ok();
    }

    public void Dispose() => _client.Dispose();

    [Fact]
    public void OrdinaryHostFilesAreReadable()
    {
        ulong etc = _client.LookupNode(1, "etc");
        ulong passwd = _client.LookupNode(etc, "passwd");
        ulong fh = _client.Open(passwd, 0).Ok().U64(0);
        string text = Encoding.UTF8.GetString(_client.Read(passwd, fh, 0, 65536).Ok().Payload);
        Assert.Equal(File.ReadAllText("/etc/passwd"), text);
    }

    [Theory]
    [InlineData("proc")]
    [InlineData("sys")]
    public void KernelFileSystemsAreEmptyMountPoints(string name)
    {
        if (!Directory.Exists("/" + name) || !Directory.EnumerateFileSystemEntries("/" + name).Any())
        {
            Assert.Skip($"/{name} is not mounted here.");
        }

        // The mount point itself exists (the guest mounts its own over it) ...
        FuseReply entry = _client.Lookup(1, name).Ok();
        ulong node = entry.U64(0);
        Assert.Equal(0x4000u, entry.U32(40 + 60) & 0xF000);

        // ... but nothing inside is reachable, listable or changeable.
        foreach (string inside in new[] { "self", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), "kcore", "kernel", "sysrq-trigger" })
        {
            Assert.Equal(-Errno.ENOENT, _client.Lookup(node, inside).Error);
        }

        ulong dh = _client.OpenDir(node).Ok().U64(0);
        Assert.Empty(_client.ReadDir(node, dh, 0, 4096, plus: false).Ok().Payload);
        Assert.Empty(_client.ReadDir(node, dh, 0, 4096, plus: true).Ok().Payload);
        byte[] chmod = new FuseArgsBuilder().U32(1).U32(0).Zeros(60).U32(0x1FF).Zeros(16).ToArray();
        Assert.NotEqual(0, _client.Send(FuseOpcode.SetAttr, node, chmod).Error);
    }

    [Fact]
    public void ProcSelfFdIsOnlyAPathString()
    {
        // /dev/fd is a symlink the guest resolves in its own namespace (its own /proc), never ours.
        ulong dev = _client.LookupNode(1, "dev");
        FuseReply fd = _client.Lookup(dev, "fd");
        if (fd.Error != 0)
        {
            Assert.Skip("No /dev/fd here.");
        }

        string target = Encoding.UTF8.GetString(_client.Send(FuseOpcode.ReadLink, fd.U64(0), []).Ok().Payload);
        Assert.Equal("/proc/self/fd", target);
        Assert.Equal(-Errno.ENOENT, _client.Lookup(_client.LookupNode(1, "proc"), "self").Error);
    }

    [Fact]
    public void NothingCanBeWritten()
    {
        ulong tmp = _client.LookupNode(1, "tmp");
        Assert.Equal(-Errno.EROFS, _client.Create(tmp, "vmm-should-not-exist").Error);
        Assert.Equal(-Errno.EROFS, _client.MkDir(1, "vmm-should-not-exist").Error);
        ulong passwd = _client.LookupNode(_client.LookupNode(1, "etc"), "passwd");
        Assert.Equal(-Errno.EROFS, _client.Open(passwd, 2).Error);
    }
}
