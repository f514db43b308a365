namespace Vmm.Plugins.VirtioInput.Config;

/// <summary><c>virtio_input_absinfo</c>: an absolute axis's range, noise filter, dead zone and resolution.</summary>
internal readonly record struct AbsoluteAxisInfo(int Minimum, int Maximum, int Fuzz, int Flat, int Resolution)
{
    /// <summary>The size of the structure in the config union (five le32).</summary>
    public const int Size = 20;
}
