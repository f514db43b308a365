using System.Diagnostics;
using System.Text;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Fuzz.Harness;
using Vmm.Plugins.VirtioFs;
using Vmm.Testing.Devices;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// The virtio-fs FUSE request stream (hiprio and request queues) through the plugin's public factory, the
/// in-process transport and driver, over a share rebuilt for every input. The escape oracle: canary files beside
/// the share (one behind a symlink inside it) must keep their content, mode and time, nothing may appear beside
/// the share, and no reply may carry the canary's secret. Expected: FUSE error replies, a failed device on a typed
/// protocol error. A finding: any other exception logged or thrown, a hang, or an escape.
/// </summary>
public sealed class VirtioFsTarget : RequestStreamTarget
{
    private static readonly byte[] s_secret = Encoding.ASCII.GetBytes("canary:" + Convert.ToHexString(Guid.NewGuid().ToByteArray()));

    private readonly string _root = Directory.CreateTempSubdirectory("vmm-fuzz-fs-").FullName;
    private readonly string _share;
    private readonly string _canary;
    private readonly string _outsideDirectory;
    private readonly string[] _expectedOutside;
    private readonly DateTime _canaryTime;

    /// <summary>Makes the share and the canaries.</summary>
    public VirtioFsTarget()
    {
        // Request queues drained on this thread instead of their own (the plugin's documented testing seam).
        AppContext.SetSwitch("Vmm.Plugins.VirtioFs.InlineRequestQueues", true);
        _share = Directory.CreateDirectory(Path.Combine(_root, "share")).FullName;
        _canary = Path.Combine(_root, "canary");
        _outsideDirectory = Directory.CreateDirectory(Path.Combine(_root, "outside")).FullName;
        File.WriteAllBytes(_canary, s_secret);
        File.WriteAllBytes(Path.Combine(_outsideDirectory, "secret"), s_secret);
        File.SetUnixFileMode(_canary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _canaryTime = File.GetLastWriteTimeUtc(_canary);
        _expectedOutside = [.. Directory.EnumerateFileSystemEntries(_root).Order(StringComparer.Ordinal)];
    }

    /// <inheritdoc/>
    public override string Name => "virtio-fs";

    /// <inheritdoc/>
    protected override DeviceRig CreateRig() => new(
        log =>
        {
            IDeviceFactory factory = new VirtioFsDeviceFactory();
            var context = new DeviceCreateContext("fs0", log, null, EmptyServiceProvider.Instance, _root);
            return (IVirtioDevice)factory.Create(context, new VirtioFsOptions { SharedDir = _share });
        },
        VirtioDeviceType.FileSystem);

    /// <inheritdoc/>
    protected override void BeforeInput()
    {
        File.SetUnixFileMode(_share, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        EmptyShare();
        File.WriteAllText(Path.Combine(_share, "file"), "hello from the share\n");
        Directory.CreateDirectory(Path.Combine(_share, "dir"));
        File.WriteAllText(Path.Combine(_share, "dir", "inner"), "inner\n");
        File.CreateSymbolicLink(Path.Combine(_share, "up"), "../canary");
        File.CreateSymbolicLink(Path.Combine(_share, "abs"), _outsideDirectory);
    }

    /// <inheritdoc/>
    protected override void AfterRequest(uint writableLength)
    {
        ReadOnlySpan<byte> reply = Rig.Machine.Memory.GetSpan(ReplyBuffer.Address, (int)Math.Max(writableLength, 16));
        if (reply.IndexOf(s_secret) >= 0)
        {
            throw new FuzzFindingException("escape: a reply carries the content of a canary outside the share");
        }
    }

    /// <inheritdoc/>
    protected override void AfterBatch()
    {
        string[] outside = [.. Directory.EnumerateFileSystemEntries(_root).Order(StringComparer.Ordinal)];
        if (!outside.SequenceEqual(_expectedOutside))
        {
            throw new FuzzFindingException($"escape: entries beside the share changed: {string.Join(", ", outside)}");
        }

        CheckCanary(_canary);
        CheckCanary(Path.Combine(_outsideDirectory, "secret"));
        if (Directory.EnumerateFileSystemEntries(_outsideDirectory).Count() != 1)
        {
            throw new FuzzFindingException("escape: an entry appeared in the directory outside the share");
        }

        if (File.GetLastWriteTimeUtc(_canary) != _canaryTime || File.GetUnixFileMode(_canary) != (UnixFileMode.UserRead | UnixFileMode.UserWrite))
        {
            throw new FuzzFindingException("escape: the canary's time or mode changed");
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            EmptyShare();
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>
    /// Removes what the last input made in the share. A guest may name entries with bytes that are not UTF-8, which
    /// .NET reads back with U+FFFD and cannot delete by that name (one such entry used to fail every later input of
    /// the process: finding 7); find(1) deletes by the bytes. The share directory itself stays: the device holds it.
    /// </summary>
    private void EmptyShare()
    {
        try
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries(_share))
            {
                var info = new FileInfo(entry);
                if (info.Attributes.HasFlag(FileAttributes.Directory) && info.LinkTarget is null)
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    info.Delete();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            using var find = Process.Start(new ProcessStartInfo("find", [_share, "-mindepth", "1", "-delete"]) { RedirectStandardError = true })!;
            string errors = find.StandardError.ReadToEnd();
            find.WaitForExit();
            if (find.ExitCode != 0 || Directory.EnumerateFileSystemEntries(_share).Any())
            {
                throw new InvalidOperationException($"the share could not be emptied after {e.GetType().Name}: {errors.Trim()}", e);
            }
        }
    }

    private static void CheckCanary(string path)
    {
        FileInfo info = new(path);
        if (info.LinkTarget is not null || !File.ReadAllBytes(path).AsSpan().SequenceEqual(s_secret))
        {
            throw new FuzzFindingException($"escape: {path} was changed through the share");
        }
    }
}
