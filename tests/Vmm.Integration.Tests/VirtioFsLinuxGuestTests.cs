using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Plugins.VirtioFs;
using Vmm.Qemu;

namespace Vmm.Integration.Tests;

/// <summary>
/// Debian's kernel, under QEMU 10 (TCG), mounts our virtio-fs served over vhost-user (vhost-user-fs-pci): a script
/// on the share creates, reads, writes, renames, links, lists and deletes, checksums a large host file and writes
/// a large one back, runs a script and a static binary straight from the share; the host then checks every result
/// in the shared directory. A second boot runs the guest on a read-only share of the host's own "/" (as muvm does).
/// </summary>
public sealed partial class VirtioFsLinuxGuestTests
{
    private const string Tag = "vmmshare";

    private const string GuestScript = """
        set -e
        cd /mnt/share
        echo "HOST-SAYS:$(cat hello.txt)"
        echo "guest wrote this" > from-guest.txt
        mkdir gdir
        echo data > gdir/f1
        mv gdir/f1 gdir/f2
        ln gdir/f2 hardlink
        ln -s gdir/f2 symlink
        echo "VIA-SYMLINK:$(cat symlink)"
        echo "LINKS:$(stat -c %h gdir/f2)"
        rm to-delete.txt
        echo "LIST:$(ls | tr '\n' ' ')"
        echo "SHA:$(sha256sum big.bin | cut -d' ' -f1)"
        seq 1 100000 > guest-big.txt
        dd if=/dev/zero of=zeros.bin bs=65536 count=64 2>/dev/null
        truncate -s 1000 zeros.bin
        df -k /mnt/share | tail -1
        echo "SCRIPT-SAYS:$(./run-me.sh from-guest)"
        if [ -x ./hello-static ]; then echo "BINARY-SAYS:$(./hello-static 42)"; fi
        ./run-me.sh made-by-guest > ran.txt
        mknod cdev c 1 3
        mknod bdev b 7 0
        echo "DEVICES:$(stat -c '%F:%t:%T' cdev),$(stat -c '%F:%t:%T' bdev)"
        mkdir setgid-dir
        chmod 02755 setgid-dir
        echo "SETGID:$(stat -c %a setgid-dir)"
        (umask 0; mkdir -m 0777 open-dir)
        sync
        echo GUEST-DONE
        """;

    [Fact]
    public async Task Linux_guest_uses_our_virtio_fs_over_vhost_user()
    {
        (QemuBinary qemu, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();

        string work = Directory.CreateTempSubdirectory("vmm-it-fs-").FullName;
        try
        {
            string share = Directory.CreateDirectory(Path.Combine(work, "share")).FullName;
            await File.WriteAllTextAsync(Path.Combine(share, "t.sh"), GuestScript.ReplaceLineEndings("\n") + "\n", TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(share, "hello.txt"), "hello from the host", TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(share, "to-delete.txt"), "bye", TestContext.Current.CancellationToken);
            byte[] big = new byte[16 << 20];
            new Random(26).NextBytes(big);
            await File.WriteAllBytesAsync(Path.Combine(share, "big.bin"), big, TestContext.Current.CancellationToken);
            string script = Path.Combine(share, "run-me.sh");
            await File.WriteAllTextAsync(script, "#!/bin/sh\necho \"script ran with $1 as $(id -u)\"\n", TestContext.Current.CancellationToken);
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(script, (UnixFileMode)0x1ED);
            }
            bool haveBinary = await TryBuildStaticBinaryAsync(Path.Combine(share, "hello-static"), work);

            var machine = new MachineSpec(512UL << 20, 1, kernel, initrd, $"console=ttyS0 loglevel=4 panic=-1 vmm.share={Tag} vmm.script=t.sh");
            var fs = new DeviceSpec(
                "fs0",
                "Vmm.Plugins.VirtioFs",
                VirtioFsDeviceFactory.Type,
                new VirtioFsOptions { SharedDir = share, Tag = Tag },
                new VirtioFsDeviceFactory(),
                "$.devices[0]");
            var spec = new VmSpec(machine, PlatformKind.Qemu, [fs], null, null, work);

            (VmRunResult result, string output, bool timedOut) = await TestVm.RunUnderQemuAsync(spec, qemu.Version, TimeSpan.FromSeconds(180));
            Assert.False(timedOut, "The guest did not power off within 180 s.");
            Assert.Equal(VmRunOutcome.Stopped, result.Outcome);
            Assert.Contains($"share {Tag} mounted at /mnt/share", output, StringComparison.Ordinal);
            Assert.Contains("GUEST-DONE", output, StringComparison.Ordinal);
            Assert.Contains("VMM-GUEST: END rc=0", output, StringComparison.Ordinal);
            Assert.Contains("HOST-SAYS:hello from the host", output, StringComparison.Ordinal);
            Assert.Contains("VIA-SYMLINK:data", output, StringComparison.Ordinal);
            Assert.Contains("LINKS:2", output, StringComparison.Ordinal);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(big)), ShaLine().Match(output).Groups[1].Value);

            // What the host sees.
            Assert.Equal("guest wrote this\n", await File.ReadAllTextAsync(Path.Combine(share, "from-guest.txt"), TestContext.Current.CancellationToken));
            Assert.False(File.Exists(Path.Combine(share, "gdir", "f1")));
            Assert.Equal("data\n", await File.ReadAllTextAsync(Path.Combine(share, "gdir", "f2"), TestContext.Current.CancellationToken));
            Assert.Equal("data\n", await File.ReadAllTextAsync(Path.Combine(share, "hardlink"), TestContext.Current.CancellationToken));
            Assert.Equal("gdir/f2", new FileInfo(Path.Combine(share, "symlink")).LinkTarget);
            Assert.False(File.Exists(Path.Combine(share, "to-delete.txt")));
            string expected = string.Concat(Enumerable.Range(1, 100000).Select(i => i + "\n"));
            Assert.Equal(expected, await File.ReadAllTextAsync(Path.Combine(share, "guest-big.txt"), TestContext.Current.CancellationToken));
            Assert.Equal(1000, new FileInfo(Path.Combine(share, "zeros.bin")).Length);

            // POSIX as the C virtiofsd serves it (issue 18): device nodes are made, set-group-ID stays, and the
            // guest's mode reaches the host unmasked by the VMM's umask (this process's, usually 022).
            Assert.Contains("DEVICES:character special file:1:3,block special file:7:0", output, StringComparison.Ordinal);
            Assert.Contains("SETGID:2755", output, StringComparison.Ordinal);
            Assert.Equal("character special file 1:3", await HostStatAsync("%F %t:%T", Path.Combine(share, "cdev")));
            Assert.Equal("block special file 7:0", await HostStatAsync("%F %t:%T", Path.Combine(share, "bdev")));
            Assert.Equal("2755", await HostStatAsync("%a", Path.Combine(share, "setgid-dir")));
            Assert.Equal("777", await HostStatAsync("%a", Path.Combine(share, "open-dir")));
            TestContext.Current.TestOutputHelper?.WriteLine($"VMM process {File.ReadLines("/proc/self/status").First(l => l.StartsWith("Umask:", StringComparison.Ordinal))}");

            // Programs run from the share: a script (through its #! line) and, when gcc could build one, a static binary.
            Assert.Contains("SCRIPT-SAYS:script ran with from-guest as 0", output, StringComparison.Ordinal);
            Assert.Equal("script ran with made-by-guest as 0\n", await File.ReadAllTextAsync(Path.Combine(share, "ran.txt"), TestContext.Current.CancellationToken));
            if (haveBinary)
            {
                Assert.Contains("BINARY-SAYS:static binary says 42", output, StringComparison.Ordinal);
            }
            else
            {
                TestContext.Current.TestOutputHelper?.WriteLine("gcc -static is not available: the static binary part was skipped.");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The host's own view of a path, by coreutils stat (device numbers in hex, as the guest's busybox prints them).</summary>
    private static async Task<string> HostStatAsync(string format, string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", format, path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string output = await stat.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await stat.WaitForExitAsync(TestContext.Current.CancellationToken);
        return output.Trim();
    }

    /// <summary>Builds a small static program with gcc; false (the check is skipped) when gcc or a static libc is missing.</summary>
    internal static async Task<bool> TryBuildStaticBinaryAsync(string output, string work)
    {
        string source = Path.Combine(work, "hello.c");
        await File.WriteAllTextAsync(source, "#include <stdio.h>\nint main(int c, char **v) { printf(\"static binary says %s\\n\", c > 1 ? v[1] : \"nothing\"); return 0; }\n", TestContext.Current.CancellationToken);
        try
        {
            using var gcc = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("gcc", ["-static", "-O2", "-o", output, source])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            });
            if (gcc is null)
            {
                return false;
            }

            await gcc.WaitForExitAsync(TestContext.Current.CancellationToken);
            return gcc.ExitCode == 0 && File.Exists(output);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    [GeneratedRegex(@"SHA:([0-9a-f]{64})")]
    private static partial Regex ShaLine();
}
