using System.Security.Cryptography;

namespace Vmm.Plugins.VirtioRng.Entropy;

/// <summary>The host's cryptographic RNG (getrandom on Linux); never runs dry.</summary>
internal sealed class OsEntropySource : IEntropySource
{
    public int Fill(Span<byte> destination)
    {
        RandomNumberGenerator.Fill(destination);
        return destination.Length;
    }

    public void Dispose()
    {
    }
}
