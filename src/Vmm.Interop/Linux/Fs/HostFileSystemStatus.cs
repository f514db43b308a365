namespace Vmm.Interop;

/// <summary>What <c>fstatfs</c> says about a host file system.</summary>
internal readonly record struct HostFileSystemStatus(
    ulong Blocks,
    ulong BlocksFree,
    ulong BlocksAvailable,
    ulong Files,
    ulong FilesFree,
    uint BlockSize,
    uint NameLength,
    uint FragmentSize);
