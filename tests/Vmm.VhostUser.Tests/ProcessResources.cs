namespace Vmm.VhostUser.Tests;

/// <summary>Counts this process's open descriptors and mappings, to prove nothing leaks.</summary>
internal static class ProcessResources
{
    public static int OpenDescriptors() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    public static int Mappings() => File.ReadAllLines("/proc/self/maps").Length;
}
