namespace Vmm.GpuBench;

/// <summary>A damage rectangle pushed every frame, on the 2D resource or (<paramref name="Blob"/>) on the guest blob.</summary>
internal sealed record Damage(string Name, int X, int Y, int Width, int Height, bool Blob = false)
{
    public long Bytes => (long)Width * Height * GpuDriver.BytesPerPixel;
}
