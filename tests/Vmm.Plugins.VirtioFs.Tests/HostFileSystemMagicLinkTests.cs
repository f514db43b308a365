using System.Text;
using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;
using Xunit;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// Calls that name an O_PATH handle by its /proc/self/fd link must never reach another file: once the handle is
/// closed (a FORGET on another thread), its fd number may already belong to something else.
/// </summary>
public sealed class HostFileSystemMagicLinkTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vmm-magic-link-").FullName;

    [Fact]
    public void A_closed_path_handle_is_refused_even_when_its_number_was_reused()
    {
        File.WriteAllText(Path.Combine(_directory, "forgotten"), "forgotten");
        File.WriteAllText(Path.Combine(_directory, "secret"), "secret");
        using SafeFileHandle procSelfFd = HostFileSystem.OpenProcSelfFd();
        using SafeFileHandle directory = HostFileSystem.OpenDirectory(_directory);
        SafeFileHandle forgotten = HostFileSystem.OpenPathBeneath(directory, "forgotten"u8);
        forgotten.Dispose();

        // The lowest free number is the one just closed, so the next open usually takes it (other tests open fds in
        // parallel, so this is not asserted): the old code then reopened "secret"; either way the call must refuse.
        using SafeFileHandle secret = HostFileSystem.OpenPathBeneath(directory, "secret"u8);

        Assert.Throws<ObjectDisposedException>(() => HostFileSystem.Reopen(procSelfFd, forgotten, HostFileSystem.ReadOnlyFlags));
        Assert.Throws<ObjectDisposedException>(() => HostFileSystem.ChangeMode(procSelfFd, forgotten, 0));
        Assert.Equal("secret", File.ReadAllText(Path.Combine(_directory, "secret"), Encoding.UTF8));
    }

    [Fact]
    public void An_open_path_handle_reopens_exactly_its_inode()
    {
        File.WriteAllText(Path.Combine(_directory, "file"), "contents");
        using SafeFileHandle procSelfFd = HostFileSystem.OpenProcSelfFd();
        using SafeFileHandle directory = HostFileSystem.OpenDirectory(_directory);
        using SafeFileHandle path = HostFileSystem.OpenPathBeneath(directory, "file"u8);
        using SafeFileHandle file = HostFileSystem.Reopen(procSelfFd, path, HostFileSystem.ReadOnlyFlags);
        byte[] buffer = new byte[16];
        int read = RandomAccess.Read(file, buffer, 0);
        Assert.Equal("contents", Encoding.UTF8.GetString(buffer, 0, read));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
