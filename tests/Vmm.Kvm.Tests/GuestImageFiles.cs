using Xunit;

namespace Vmm.Kvm.Tests;

/// <summary>The guest image tools/guest-image/build.sh caches: $VMM_GUEST_IMAGE_DIR, else &lt;repo&gt;/.cache/guest-image.</summary>
internal static class GuestImageFiles
{
    public static string Directory
    {
        get
        {
            string? directory = Environment.GetEnvironmentVariable("VMM_GUEST_IMAGE_DIR");
            return string.IsNullOrEmpty(directory) ? Path.Combine(KvmTestEnvironment.RepositoryRoot ?? "/nonexistent", ".cache", "guest-image") : directory;
        }
    }

    /// <summary>The path of <paramref name="name"/> (vmlinuz, vmlinux, initrd.img) in the image, or a skip saying it is missing.</summary>
    public static string PathOrSkip(string name)
    {
        string path = Path.Combine(Directory, name);
        if (!File.Exists(path))
        {
            Assert.Skip($"{path} is missing: build the guest image with tools/guest-image/build.sh (or set VMM_GUEST_IMAGE_DIR).");
        }

        return path;
    }
}
