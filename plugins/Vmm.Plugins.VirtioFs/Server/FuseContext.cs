namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// Who asks: the guest caller's ids and pid from fuse_in_header (guest ids, before any map), and the umask a create
/// carries (MKNOD, MKDIR, CREATE; 0 for other requests).
/// </summary>
internal readonly record struct FuseContext(uint Uid, uint Gid, uint Pid, uint Umask);
