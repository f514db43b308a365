namespace Vmm.Plugins.VirtioRng.Entropy;

/// <summary>Where a virtio-rng device's bytes come from.</summary>
internal interface IEntropySource : IDisposable
{
    /// <summary>Fills <paramref name="destination"/>; returns fewer bytes only when the source has run dry.</summary>
    int Fill(Span<byte> destination);
}
