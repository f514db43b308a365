using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Vmm.Core.Hosting;

namespace Vmm.Qemu.GuestImages;

/// <summary>
/// The default guest of the qemu platform: the kernel and initramfs that <c>tools/guest-image/build.sh</c> builds
/// from Debian packages into a cache folder. <see cref="EnsureAsync"/> builds it the first time it is needed.
/// </summary>
public sealed class GuestImageCache
{
    /// <summary>The environment variable that names the cache folder, overriding the default.</summary>
    public const string DirectoryVariable = "VMM_GUEST_IMAGE_DIR";

    /// <summary>The build script's path below a repository root or the vmm folder.</summary>
    public static readonly string BuildScriptRelativePath = Path.Combine("tools", "guest-image", "build.sh");

    /// <summary>Creates a cache at <paramref name="directory"/>, built by <paramref name="buildScript"/> (null: none found).</summary>
    public GuestImageCache(string directory, string? buildScript)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
        BuildScript = buildScript;
    }

    /// <summary>The folder holding <c>vmlinux</c>/<c>vmlinuz</c> and <c>initrd.img</c>.</summary>
    public string Directory { get; }

    /// <summary>The build script, or null when none was found.</summary>
    public string? BuildScript { get; }

    /// <summary>
    /// The cache a vmm run uses: <c>$VMM_GUEST_IMAGE_DIR</c> if set; else <c>.cache/guest-image</c> in the first
    /// repository (a folder with tools/guest-image/build.sh and Framework.sln) above one of <paramref name="startDirectories"/>; else
    /// <c>~/.cache/vmm/guest-image</c> with the build script shipped next to vmm.
    /// </summary>
    public static GuestImageCache Locate(IEnumerable<string> startDirectories, string applicationDirectory)
    {
        ArgumentNullException.ThrowIfNull(startDirectories);
        string? repository = startDirectories.Select(FindRepository).FirstOrDefault(r => r is not null);
        string? shipped = Path.Combine(applicationDirectory, BuildScriptRelativePath);
        string? script = repository is not null ? Path.Combine(repository, BuildScriptRelativePath) : File.Exists(shipped) ? shipped : null;
        string? directory = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrEmpty(directory))
        {
            directory = repository is not null
                ? Path.Combine(repository, ".cache", "guest-image")
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "vmm", "guest-image");
        }

        return new GuestImageCache(Path.GetFullPath(directory), script);
    }

    /// <summary>The built image, when the cache holds one.</summary>
    public bool TryGet([NotNullWhen(true)] out GuestImagePaths? paths)
    {
        string vmlinux = Path.Combine(Directory, "vmlinux");
        string vmlinuz = Path.Combine(Directory, "vmlinuz");
        string initrd = Path.Combine(Directory, "initrd.img");
        paths = null;
        if (!IsNonEmpty(initrd))
        {
            return false;
        }

        string? kernel = IsNonEmpty(vmlinux) ? vmlinux : IsNonEmpty(vmlinuz) ? vmlinuz : null;
        paths = kernel is null ? null : new GuestImagePaths(kernel, initrd);
        return paths is not null;
    }

    /// <summary>
    /// The image, built first when the cache is empty, and checked by the build script when one of its scripts is
    /// newer than the image (a vmm updated over an older vmm's image): runs the build script (about 40 s the first
    /// time, it downloads two Debian packages) and copies its progress lines to <paramref name="progress"/>. An
    /// image the script cannot refresh (no root, no apt-get) is used as it is, with a warning.
    /// </summary>
    /// <returns>The image, or a message saying why there is none and which command builds it.</returns>
    public async Task<GuestImageResult> EnsureAsync(TextWriter? progress, CancellationToken cancellationToken)
    {
        bool present = TryGet(out GuestImagePaths? paths);
        if (present && !OlderThanItsScripts())
        {
            return new GuestImageResult(paths, null);
        }

        if (present && (ExecutableSearch.FindOnPath("apt-get") is null || ExecutableSearch.FindOnPath("bash") is null))
        {
            return new GuestImageResult(paths, null);
        }

        if (BuildScript is null || !File.Exists(BuildScript))
        {
            return Failed($"the guest image is missing from {Directory} and no {BuildScriptRelativePath} was found next to vmm or above the current folder; build it from a Vmm checkout with 'sudo tools/guest-image/build.sh --out {Directory}', or set machine.kernel and machine.initrd.");
        }

        string command = $"{(Environment.IsPrivilegedProcess ? "" : "sudo ")}bash {BuildScript} --out {Directory}";
        if (ExecutableSearch.FindOnPath("apt-get") is null || ExecutableSearch.FindOnPath("bash") is null)
        {
            return Failed($"the guest image is missing from {Directory}, and it is built from Debian packages with apt-get, which this machine lacks; build it on a Debian machine with '{command}' and copy the folder, or set machine.kernel and machine.initrd.");
        }

        progress?.WriteLine(present
            ? $"vmm: the guest image in {Directory} is older than the scripts of this vmm; checking it with {BuildScript} (rebuilt if they changed, about 40 s)..."
            : $"vmm: the guest image is missing from {Directory}; building it with {BuildScript} (about 40 s the first time)...");
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(BuildScript);
        start.ArgumentList.Add("--out");
        start.ArgumentList.Add(Directory);
        string lastLine = "";
        int exitCode;
        using (Process process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start."))
        {
            process.StandardInput.Close();
            Task output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            while (await process.StandardError.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                lastLine = line;
                progress?.WriteLine(line);
            }

            await output.ConfigureAwait(false);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            exitCode = process.ExitCode;
        }

        if (present && exitCode != 0 && TryGet(out paths))
        {
            progress?.WriteLine($"vmm: warning: the guest image could not be rebuilt (the build script exited with code {exitCode}: {lastLine.Trim()}); using the one in {Directory}, which may lack what this vmm's guest needs (run '{command}').");
            return new GuestImageResult(paths, null);
        }

        if (exitCode != 0 || !TryGet(out paths))
        {
            string why = exitCode != 0 ? $"the build script exited with code {exitCode} ({lastLine.Trim()})" : "the build script left no image";
            string root = Environment.IsPrivilegedProcess ? "" : " (it may need root)";
            return Failed($"the guest image could not be built: {why}{root}; run '{command}' (tools/install-deps.sh installs what it needs), then try again.");
        }

        // The script's fast path leaves the stamp as it was: mark the image checked against these scripts.
        string stamp = Path.Combine(Directory, "stamp");
        try
        {
            File.SetLastWriteTimeUtc(stamp, DateTime.UtcNow);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only cache is checked again next time; the image itself is fine.
        }

        progress?.WriteLine($"vmm: guest image ready: {paths.KernelPath}");
        return new GuestImageResult(paths, null);
    }

    private static GuestImageResult Failed(string message) => new(null, message);

    /// <summary>
    /// Whether a file the build script hashes into its cache key (itself, the guest's init, the guest programs and
    /// agents) is newer than the image's stamp: then the image may be an older vmm's (without the exec agent, say),
    /// and the script decides. It only checks, and touches the stamp, when nothing changed. An image without a
    /// stamp was not made by the script and is used as it is.
    /// </summary>
    private bool OlderThanItsScripts()
    {
        var stamp = new FileInfo(Path.Combine(Directory, "stamp"));
        if (BuildScript is null || !stamp.Exists)
        {
            return false;
        }

        string scripts = Path.GetDirectoryName(Path.GetFullPath(BuildScript))!;
        string tools = Path.GetFullPath(Path.Combine(scripts, ".."));
        IEnumerable<string> inputs =
        [
            BuildScript,
            Path.Combine(scripts, "init"),
            .. SourcesIn(Path.Combine(tools, "guest-payloads", "linux")),
            .. SourcesIn(Path.Combine(tools, "guest-agents", "kvmfr-capture")),
            .. SourcesIn(Path.Combine(tools, "guest-agents", "vmm-exec-agent")),
        ];
        return inputs.Any(input => File.Exists(input) && File.GetLastWriteTimeUtc(input) > stamp.LastWriteTimeUtc);
    }

    private static IEnumerable<string> SourcesIn(string folder) =>
        System.IO.Directory.Exists(folder)
            ? System.IO.Directory.EnumerateFiles(folder).Where(f => f.EndsWith(".c", StringComparison.Ordinal) || f.EndsWith(".h", StringComparison.Ordinal))
            : [];

    private static bool IsNonEmpty(string path)
    {
        var file = new FileInfo(path);
        return file.Exists && file.Length > 0;
    }

    private static string? FindRepository(string start)
    {
        for (DirectoryInfo? directory = new(start); directory is not null; directory = directory.Parent)
        {
            // A checkout has the solution beside the script; a build or publish folder has only the shipped script.
            if (File.Exists(Path.Combine(directory.FullName, BuildScriptRelativePath)) && File.Exists(Path.Combine(directory.FullName, "Framework.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}

