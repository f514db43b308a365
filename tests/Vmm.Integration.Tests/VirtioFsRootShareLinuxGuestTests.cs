using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Plugins.VirtioFs;
using Vmm.Qemu;

namespace Vmm.Integration.Tests;

/// <summary>
/// muvm-style: the guest boots on a read-only virtio-fs share of the host's own "/" (init's vmm.root=TAG mounts it,
/// mounts proc/sys/dev/tmp/run inside and chroots into it) and runs the host's programs from it; their output must
/// match what the host computes, and a write must fail with EROFS.
/// </summary>
public sealed class VirtioFsRootShareLinuxGuestTests
{
    private const string Tag = "hostroot";

    [Fact]
    public async Task Linux_guest_runs_host_programs_from_a_read_only_share_of_the_host_root()
    {
        (QemuBinary qemu, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();

        // A host file outside /tmp, since the guest mounts its own tmpfs there (a CI clone may live under /tmp, so not
        // this test's assembly): the host's sha256sum hashing its own binary.
        const string hashed = "/usr/bin/sha256sum";
        string expectedSha = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(hashed, TestContext.Current.CancellationToken)));
        string expectedQemuLs = Directory.Exists("/usr/lib/qemu")
            ? string.Join(' ', Directory.EnumerateFileSystemEntries("/usr/lib/qemu").Select(Path.GetFileName).Order(StringComparer.Ordinal))
            : "";
        string? hostDotnet = await TryRunAsync("/usr/bin/dotnet", "--version");
        string command = string.Join('\n',
            "echo \"SHA:$(/usr/bin/sha256sum '" + hashed + "' | cut -d' ' -f1)\"",
            "echo \"QEMU-LS:$(LC_ALL=C /bin/ls /usr/lib/qemu | tr '\\n' ' ')\"",
            "echo \"OS:$(. /etc/os-release && echo $ID)\"",
            "[ -x /usr/bin/dotnet ] && echo \"DOTNET:$(/usr/bin/dotnet --version 2>&1 | head -n1)\"",
            "echo \"PROC-PID1:$(cat /proc/1/cmdline | tr '\\0' ' ')\"",
            "echo \"TOUCH:$(touch /usr/vmm-x 2>&1)\"",
            "echo ROOT-DONE");
        string commandLine = $"console=ttyS0 loglevel=4 panic=-1 vmm.root={Tag} vmm.cmd={Convert.ToBase64String(Encoding.UTF8.GetBytes(command))}";

        string work = Directory.CreateTempSubdirectory("vmm-it-rootfs-").FullName;
        try
        {
            var machine = new MachineSpec(512UL << 20, 1, kernel, initrd, commandLine);
            var fs = new DeviceSpec(
                "fs0",
                "Vmm.Plugins.VirtioFs",
                VirtioFsDeviceFactory.Type,
                new VirtioFsOptions { SharedDir = "/", Tag = Tag, ReadOnly = true },
                new VirtioFsDeviceFactory(),
                "$.devices[0]");
            var spec = new VmSpec(machine, PlatformKind.Qemu, [fs], null, null, work);

            (VmRunResult result, string output, bool timedOut) = await TestVm.RunUnderQemuAsync(spec, qemu.Version, TimeSpan.FromSeconds(240));
            Assert.False(timedOut, "The guest did not power off within 240 s.");
            Assert.Equal(VmRunOutcome.Stopped, result.Outcome);
            Assert.Contains($"root {Tag} mounted read-only at /newroot", output, StringComparison.Ordinal);
            Assert.Contains("ROOT-DONE", output, StringComparison.Ordinal);
            Assert.Contains("VMM-GUEST: END rc=0", output, StringComparison.Ordinal);
            Assert.Contains($"SHA:{expectedSha}", output, StringComparison.Ordinal);
            Assert.Contains($"QEMU-LS:{expectedQemuLs} ", output, StringComparison.Ordinal);
            Assert.Contains("Read-only file system", Line(output, "TOUCH:"), StringComparison.Ordinal);
            Assert.False(File.Exists("/usr/vmm-x"));

            // The guest's /proc is its own (its pid 1 is the image's /init), mounted over the share's empty /proc.
            Assert.Equal("PROC-PID1:/bin/sh /init ", Line(output, "PROC-PID1:"));
            if (hostDotnet is not null && File.Exists("/usr/bin/dotnet"))
            {
                Assert.Equal($"DOTNET:{hostDotnet}", Line(output, "DOTNET:"));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string Line(string output, string prefix)
        => output.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) ?? $"<no {prefix} line>";

    private static async Task<string?> TryRunAsync(string program, string argument)
    {
        if (!File.Exists(program))
        {
            return null;
        }

        using var process = Process.Start(new ProcessStartInfo(program, argument) { RedirectStandardOutput = true, RedirectStandardError = true });
        if (process is null)
        {
            return null;
        }

        string text = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return process.ExitCode == 0 ? text.Split('\n')[0].Trim() : null;
    }
}
