using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Vmm.Core.Hosting;

namespace Vmm.Qemu;

/// <summary>A <c>qemu-system-x86_64</c> executable and its version.</summary>
public sealed partial class QemuBinary
{
    /// <summary>The executable's file name.</summary>
    public const string ExecutableName = "qemu-system-x86_64";

    /// <summary>
    /// The oldest QEMU we run: 10.0 is the first whose vhost-user-gpu and vhost-user-input front-ends work under TCG
    /// (7.2 refuses them with "requires kvm").
    /// </summary>
    public static Version MinimumVersion { get; } = new(10, 0);

    private QemuBinary(string path, Version version)
    {
        Path = path;
        Version = version;
    }

    /// <summary>The executable's absolute path.</summary>
    public string Path { get; }

    /// <summary>The version it reports.</summary>
    public Version Version { get; }

    /// <summary>
    /// Finds QEMU (<paramref name="explicitPath"/>, else <c>$PATH</c>) and checks it is at least
    /// <see cref="MinimumVersion"/>. On failure <paramref name="reason"/> says what is missing and how to get it.
    /// </summary>
    public static bool TryLocate(string? explicitPath, [NotNullWhen(true)] out QemuBinary? binary, [NotNullWhen(false)] out string? reason)
    {
        binary = null;
        string? path = explicitPath ?? ExecutableSearch.FindOnPath(ExecutableName);
        if (path is null || !File.Exists(path))
        {
            reason = $"{ExecutableName} was not found{(explicitPath is null ? " on PATH" : $" at {explicitPath}")}; install QEMU {MinimumVersion.ToString(2)} or newer (tools/install-deps.sh installs it from bookworm-backports).";
            return false;
        }

        string output;
        try
        {
            output = RunVersion(path);
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or InvalidOperationException or TimeoutException)
        {
            reason = $"{path} --version failed: {exception.Message}";
            return false;
        }

        if (!TryParseVersion(output, out Version? version))
        {
            reason = $"{path} --version printed no QEMU version: '{output.Trim()}'.";
            return false;
        }

        if (version < MinimumVersion)
        {
            reason = $"{path} is QEMU {version}; the qemu platform needs {MinimumVersion.ToString(2)} or newer (vhost-user-gpu/-input under TCG). tools/install-deps.sh installs it from bookworm-backports.";
            return false;
        }

        binary = new QemuBinary(path, version);
        reason = null;
        return true;
    }

    /// <summary>Reads the version from <c>--version</c> output ("QEMU emulator version 10.0.2 (Debian ...)").</summary>
    public static bool TryParseVersion(string versionOutput, [NotNullWhen(true)] out Version? version)
    {
        ArgumentNullException.ThrowIfNull(versionOutput);
        Match match = VersionPattern().Match(versionOutput);
        if (!match.Success)
        {
            version = null;
            return false;
        }

        version = new Version(
            int.Parse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(match.Groups[2].ValueSpan, System.Globalization.CultureInfo.InvariantCulture),
            match.Groups[3].Success ? int.Parse(match.Groups[3].ValueSpan, System.Globalization.CultureInfo.InvariantCulture) : 0);
        return true;
    }

    private static string RunVersion(string path)
    {
        var start = new ProcessStartInfo(path, "--version")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{path} did not start.");
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            throw new TimeoutException($"{path} --version did not finish in 10 s.");
        }

        return output;
    }

    [GeneratedRegex(@"QEMU emulator version (\d+)\.(\d+)(?:\.(\d+))?")]
    private static partial Regex VersionPattern();
}
