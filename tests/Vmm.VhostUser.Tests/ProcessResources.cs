namespace Vmm.VhostUser.Tests;

/// <summary>Counts this process's open descriptors and mappings, to prove nothing leaks.</summary>
internal static class ProcessResources
{
    public static int OpenDescriptors() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    public static int Mappings() => File.ReadAllLines("/proc/self/maps").Length;

    /// <summary>Mappings of memfd guest RAM (the front-end's and the back-end's views of it).</summary>
    public static int GuestMemoryMappings() => File.ReadLines("/proc/self/maps").Count(l => l.Contains("memfd:vmm-guest-ram", StringComparison.Ordinal));
}
