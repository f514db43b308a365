namespace Vmm.Fuzz.Harness;

/// <summary>
/// One fuzz target: feeds one input to one parser. <see cref="Run"/> returns normally when the code under test
/// accepted the input or refused it with its typed error (the expected outcome for hostile input); anything else
/// escapes as <see cref="FuzzFindingException"/> or as the unexpected exception itself, which afl-fuzz records as
/// a crash and the replay test reports as a failure.
/// </summary>
public abstract class FuzzTarget : IDisposable
{
    /// <summary>The name used on the command line, in corpus/ and repro/ folders.</summary>
    public abstract string Name { get; }

    /// <summary>Runs one input.</summary>
    public abstract void Run(ReadOnlySpan<byte> input);

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the target set up once (machines, sockets, temporary directories).</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
