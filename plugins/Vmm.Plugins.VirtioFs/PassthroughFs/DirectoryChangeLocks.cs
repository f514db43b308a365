namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>
/// Serialises the name changes (create, mknod, mkdir, symlink, link, unlink, rmdir, rename) that request threads make
/// in one directory, around the one system call. The host kernel serialises them anyway (the directory's i_rwsem,
/// taken exclusively for each), but a waiter there spins on the CPU for as long as the holder runs: a create that
/// scans ext4's inode bitmaps for 100 µs or more costs each waiting thread as much again (`rwsem_spin_on_owner`,
/// the largest single symbol in a profile of creates on 2 request queues). A waiter here sleeps after a short
/// spin, and the kernel lock is then never contended. One thread (one request queue) only pays an uncontended lock.
/// Striped by the directory's node id: directories that share a stripe are serialised too, which with
/// <see cref="Stripes"/> stripes and a few busy directories is rare and costs no more than a wait.
/// </summary>
internal sealed class DirectoryChangeLocks
{
    /// <summary>How many locks the directories share (a power of two).</summary>
    public const int Stripes = 64;

    private readonly Lock[] _locks = CreateLocks();

    /// <summary>Holds the lock of <paramref name="directory"/> until the scope is disposed.</summary>
    public Scope Enter(Inode directory) => Enter(directory, directory);

    /// <summary>Holds the locks of both directories (a rename), always taken in stripe order so two renames cannot deadlock.</summary>
    public Scope Enter(Inode first, Inode second)
    {
        int a = StripeOf(first);
        int b = StripeOf(second);
        Lock lower = _locks[Math.Min(a, b)];
        Lock? upper = a == b ? null : _locks[Math.Max(a, b)];
        lower.Enter();
        upper?.Enter();
        return new Scope(lower, upper);
    }

    /// <summary>The stripe of <paramref name="directory"/> (node ids come from a counter, so neighbours spread).</summary>
    internal static int StripeOf(Inode directory) => (int)(directory.NodeId & (Stripes - 1));

    private static Lock[] CreateLocks()
    {
        var locks = new Lock[Stripes];
        for (int i = 0; i < locks.Length; i++)
        {
            locks[i] = new Lock();
        }

        return locks;
    }

    /// <summary>The locks held; disposing releases them (in reverse order).</summary>
    public readonly ref struct Scope(Lock lower, Lock? upper)
    {
        public void Dispose()
        {
            upper?.Exit();
            lower.Exit();
        }
    }
}
