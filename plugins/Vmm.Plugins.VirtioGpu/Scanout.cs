using Vmm.Plugins.VirtioGpu.Protocol;

namespace Vmm.Plugins.VirtioGpu;

/// <summary>One scanout: its advertised mode and what SET_SCANOUT put on it (resource 0: disabled).</summary>
internal sealed class Scanout
{
    public Scanout(int width, int height)
    {
        Width = width;
        Height = height;
    }

    /// <summary>The mode GET_DISPLAY_INFO and the EDID advertise.</summary>
    public int Width { get; set; }

    /// <summary>The mode GET_DISPLAY_INFO and the EDID advertise.</summary>
    public int Height { get; set; }

    public uint ResourceId { get; set; }

    /// <summary>The part of the resource shown (the source rect of SET_SCANOUT).</summary>
    public GpuRect Rect { get; set; }
}
