using System.Diagnostics.CodeAnalysis;

namespace Vmm.Integration.Tests;

/// <summary>
/// The test guest built by tools/guest-image/build.sh: $VMM_GUEST_IMAGE_DIR, else &lt;repo&gt;/.cache/guest-image.
/// Tests never build it themselves (that takes minutes); CI runs the script first.
/// </summary>
internal static class GuestImage
{
    public const string DirectoryVariable = "VMM_GUEST_IMAGE_DIR";

    public static bool TryFind([NotNullWhen(true)] out string? kernel, [NotNullWhen(true)] out string? initrd, [NotNullWhen(false)] out string? reason)
    {
        string? directory = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrEmpty(directory))
        {
            string? repo = FindRepositoryRoot();
            directory = repo is null ? null : Path.Combine(repo, ".cache", "guest-image");
        }

        kernel = directory is null ? null : Path.Combine(directory, "vmlinuz");
        initrd = directory is null ? null : Path.Combine(directory, "initrd.img");
        if (kernel is null || initrd is null || !File.Exists(kernel) || !File.Exists(initrd))
        {
            reason = $"the guest image is missing (looked in {directory ?? "<no repository root found>"}); run tools/guest-image/build.sh or set {DirectoryVariable}.";
            kernel = null;
            initrd = null;
            return false;
        }

        reason = null;
        return true;
    }

    private static string? FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Framework.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
