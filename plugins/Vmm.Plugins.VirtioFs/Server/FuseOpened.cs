namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>A file or directory handle the guest now holds (OPEN, OPENDIR, CREATE), and fuse_open_out's flags for it.</summary>
internal readonly record struct FuseOpened(ulong FileHandle, uint OpenFlags);
