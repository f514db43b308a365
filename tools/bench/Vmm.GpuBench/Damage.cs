namespace Vmm.GpuBench;

/// <summary>A damage rectangle pushed every frame.</summary>
internal sealed record Damage(string Name, int X, int Y, int Width, int Height)
{
    public long Bytes => (long)Width * Height * GpuDriver.BytesPerPixel;
}
