namespace Vmm.Plugins.VirtioRng.Entropy;

/// <summary>Bytes read from a file or character device (QEMU's rng-random backend); a regular file can run dry.</summary>
internal sealed class FileEntropySource : IEntropySource
{
    private readonly FileStream _stream;

    public FileEntropySource(string path)
    {
        // Unbuffered: entropy read ahead and kept in a buffer is entropy the next reader cannot trust.
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
    }

    public int Fill(Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            int n = _stream.Read(destination[done..]);
            if (n == 0)
            {
                break;
            }

            done += n;
        }

        return done;
    }

    public void Dispose() => _stream.Dispose();
}
