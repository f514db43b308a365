using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.PassthroughFs;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// Name changes in one directory wait for each other in the server (so request threads sleep instead of spinning on
/// the host directory's lock); changes elsewhere do not, and renames cannot deadlock.
/// </summary>
public sealed class DirectoryChangeLockTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private readonly SafeFileHandle _noHandle = new(-1, ownsHandle: false);
    private readonly DirectoryChangeLocks _locks = new();

    public void Dispose() => _noHandle.Dispose();

    [Fact]
    public void AChangeWaitsForTheOneInTheSameDirectory()
    {
        Inode directory = DirectoryNode(7);
        using var entered = new ManualResetEventSlim();
        var second = new Thread(() =>
        {
            using (_locks.Enter(directory))
            {
                entered.Set();
            }
        });
        using (_locks.Enter(directory))
        {
            second.Start();

            // Not proof by itself (the thread may simply not have run yet), but it never may enter while this holds.
            Assert.False(entered.Wait(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken));
        }

        Assert.True(second.Join(s_timeout));
        Assert.True(entered.IsSet);
    }

    [Fact]
    public void ChangesInDirectoriesOfOtherStripesDoNotWait()
    {
        Inode held = DirectoryNode(7);
        Inode other = DirectoryNode(8);
        Assert.NotEqual(DirectoryChangeLocks.StripeOf(held), DirectoryChangeLocks.StripeOf(other));
        using (_locks.Enter(held))
        {
            var elsewhere = new Thread(() =>
            {
                using (_locks.Enter(other))
                {
                }
            });
            elsewhere.Start();
            Assert.True(elsewhere.Join(s_timeout));
        }
    }

    [Fact]
    public void RenamesInOppositeDirectionsDoNotDeadlock()
    {
        Inode a = DirectoryNode(3);
        Inode b = DirectoryNode(4);
        Inode sameStripeAsA = DirectoryNode(3 + DirectoryChangeLocks.Stripes);
        Thread[] threads = [Loop(a, b), Loop(b, a), Loop(sameStripeAsA, a)];
        Assert.All(threads, thread => Assert.True(thread.Join(s_timeout)));

        Thread Loop(Inode from, Inode to)
        {
            var thread = new Thread(() =>
            {
                for (int i = 0; i < 20_000; i++)
                {
                    using (_locks.Enter(from, to))
                    {
                    }
                }
            });
            thread.Start();
            return thread;
        }
    }

    [Fact]
    public void ThreadsCreatingRenamingAndRemovingInOneDirectoryAllSucceed()
    {
        using var share = new TempShare();
        System.IO.Directory.CreateDirectory(share.InShare("dir"));
        using var fs = new PassthroughFileSystem(share.Share, new VirtioFsOptions());
        var root = new FuseContext(0, 0, 0, 0);
        ulong dir = fs.Lookup(root, Fuse.FuseProtocol.RootNodeId, "dir"u8).Value.NodeId;

        // As two request queues would: each thread its own names, the same directory, and renames across it and
        // the root in both directions. Every call answers as it would alone.
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Thread[] threads = [.. Enumerable.Range(0, 2).Select(thread => new Thread(() =>
            {
                var context = new FuseContext(0, 0, 0, 0);
                for (int i = 0; i < 300; i++)
                {
                    byte[] name = System.Text.Encoding.ASCII.GetBytes($"t{thread}-{i % 7}");
                    byte[] moved = System.Text.Encoding.ASCII.GetBytes($"t{thread}-{i % 7}.moved");
                    FuseResult<FuseCreated> created = fs.Create(context, dir, name, flags: 0x42, mode: 0x81A4, openFlags: 0);
                    ulong to = thread == 0 ? Fuse.FuseProtocol.RootNodeId : dir;
                    int[] errors =
                    [
                        created.Errno,
                        created.IsError ? 0 : fs.Release(created.Value.Opened.FileHandle).Errno,
                        fs.Rename(context, dir, name, to, moved, 0).Errno,
                        fs.Unlink(context, to, moved, directory: false).Errno,
                        fs.MkDir(context, dir, name, 0x1ED).Errno,
                        fs.Unlink(context, dir, name, directory: true).Errno,
                    ];
                    if (errors.Any(e => e != 0))
                    {
                        failures.Enqueue($"thread {thread} round {i}: errnos {string.Join(", ", errors)}");
                    }
                }
            }))];
        Array.ForEach(threads, t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60))));
        Assert.Empty(failures);
        Assert.Empty(System.IO.Directory.EnumerateFileSystemEntries(share.InShare("dir")));
        Assert.Equal(["dir"], System.IO.Directory.EnumerateFileSystemEntries(share.Share).Select(Path.GetFileName));
    }

    private Inode DirectoryNode(ulong nodeId) => new(nodeId, _noHandle, device: 1, hostInode: nodeId, fileType: Fuse.FuseProtocol.Directory);
}
