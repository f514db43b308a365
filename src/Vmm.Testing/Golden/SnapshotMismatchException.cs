namespace Vmm.Testing.Golden;

/// <summary>A snapshot differs from its verified file, or has none yet. The message says which files to compare and how to accept.</summary>
public sealed class SnapshotMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SnapshotMismatchException(string message, string receivedPath, string verifiedPath)
        : base(message)
    {
        ReceivedPath = receivedPath;
        VerifiedPath = verifiedPath;
    }

    /// <summary>The file the new output was written to.</summary>
    public string ReceivedPath { get; }

    /// <summary>The committed file it was compared with (it may not exist).</summary>
    public string VerifiedPath { get; }
}
