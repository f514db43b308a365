using Vmm.Kvm.Probing;
using System.Diagnostics;
using Xunit;

namespace Vmm.Kvm.Tests;

/// <summary>Skips a test, with the reason, where /dev/kvm or the payload toolchain is missing.</summary>
internal static class KvmTestEnvironment
{
    private static readonly Lazy<(string? Directory, string? Error)> s_payloads = new(BuildPayloads);

    public static KvmSystem OpenOrSkip()
    {
        if (!KvmSystem.DeviceExists)
        {
            Assert.Skip($"{KvmSystem.DevicePath} does not exist: this host has no KVM.");
        }

        try
        {
            return KvmSystem.Open();
        }
        catch (KvmException exception)
        {
            Assert.Skip("KVM is not usable here: " + exception.Message);
            throw;
        }
    }

    /// <summary>The flat binary of tools/guest-payloads/<paramref name="name"/>.S, built with gcc once per run.</summary>
    public static byte[] LoadPayloadOrSkip(string name)
    {
        (string? directory, string? error) = s_payloads.Value;
        if (directory is null)
        {
            Assert.Skip(error!);
        }

        return File.ReadAllBytes(Path.Combine(directory, name + ".bin"));
    }

    private static (string?, string?) BuildPayloads()
    {
        string? root = FindRepositoryRoot();
        if (root is null)
        {
            return (null, "Cannot find the repository root (Framework.sln) to build tools/guest-payloads.");
        }

        if (!File.Exists("/usr/bin/gcc") && !File.Exists("/usr/local/bin/gcc"))
        {
            return (null, "gcc is not installed: cannot build the guest payloads (apt-get install gcc).");
        }

        string output = Directory.CreateTempSubdirectory("vmm-guest-payloads-").FullName;
        ProcessStartInfo start = new("sh", [Path.Combine(root, "tools", "guest-payloads", "build.sh"), output])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using Process process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? (output, null) : (null, "Building the guest payloads failed: " + errors);
    }

    /// <summary>Skips the test where guest ring 0 is emulated (a PVM host), with the probe's figures.</summary>
    public static void SkipUnlessGuestKernelRunsNatively()
    {
        if (!KvmCapabilityProbe.TryMeasure(out KvmProbeResult? probe, out string? reason))
        {
            Assert.Skip("The ring-0/ring-3 probe could not run: " + reason);
        }

        if (!probe!.RunsGuestKernelNatively)
        {
            Assert.Skip($"This host's KVM runs guest ring 0 emulated ({probe}); a Linux boot needs native ring 0 (hardware KVM).");
        }
    }

    /// <summary>The repository root (the folder with Framework.sln above the test binaries), or null.</summary>
    public static string? RepositoryRoot => FindRepositoryRoot();

    /// <summary>
    /// The path of an ELF payload from tools/guest-payloads/elf (<c>rng-ring3</c>, <c>pvh-hello</c>), built with gcc
    /// once per run.
    /// </summary>
    public static string ElfPayloadPathOrSkip(string name)
    {
        (string? directory, string? error) = s_payloads.Value;
        if (directory is null)
        {
            Assert.Skip(error!);
        }

        return Path.Combine(directory, name + ".elf");
    }

    private static string? FindRepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Framework.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}
