namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>How long the guest may cache entries and attributes, and whether open files keep their page cache.</summary>
internal readonly record struct CachePolicy(ulong TimeoutSeconds, uint OpenFlags)
{
    public static CachePolicy FromName(string name) => name switch
    {
        VirtioFsOptions.CacheNever => new CachePolicy(0, Fuse.FuseProtocol.FopenDirectIo),
        VirtioFsOptions.CacheAlways => new CachePolicy(86_400, Fuse.FuseProtocol.FopenKeepCache),
        _ => new CachePolicy(1, 0),
    };
}
