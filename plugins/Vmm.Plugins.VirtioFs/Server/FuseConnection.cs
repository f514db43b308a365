namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// What every queue's <see cref="FuseSession"/> of one device shares: the file system they serve and whether
/// FUSE_INIT started the current session. Disposing it disposes the file system.
/// </summary>
internal sealed class FuseConnection(IFuseFileSystem fileSystem) : IDisposable
{
    private volatile bool _initialized;

    public IFuseFileSystem FileSystem { get; } = fileSystem ?? throw new ArgumentNullException(nameof(fileSystem));

    /// <summary>Whether FUSE_INIT started the current session.</summary>
    public bool Initialized
    {
        get => _initialized;
        set => _initialized = value;
    }

    public void Dispose() => (FileSystem as IDisposable)?.Dispose();
}
