namespace Vmm.Plugins.Display.Png;

/// <summary>The options of a <c>display-png</c> sink.</summary>
public sealed class PngSinkOptions
{
    /// <summary>When set, the last frame is written here when the sink is disposed (the VM stops); relative to the config.</summary>
    public string? PathOnExit { get; set; }
}
