namespace Vmm.Plugins.VirtioInput;

/// <summary>The options of a <c>virtio-input</c> device.</summary>
public sealed class VirtioInputOptions
{
    /// <summary>The most events a device holds for the guest by default.</summary>
    public const int DefaultQueueBound = 1024;

    /// <summary>What the device presents itself as: <c>keyboard</c> (default), <c>mouse</c>, <c>tablet</c> or <c>gamepad</c>.</summary>
    public string Kind { get; set; } = "keyboard";

    /// <summary>The name the guest sees (at most 63 UTF-8 bytes); a default per kind when absent.</summary>
    public string? Name { get; set; }

    /// <summary>The serial the guest sees as <c>uniq</c> (at most 63 UTF-8 bytes); none when absent.</summary>
    public string? Serial { get; set; }

    /// <summary>Tablet only: the display width, so ABS_X runs 0..width-1. 0 (default) means QEMU's 0..32767.</summary>
    public int Width { get; set; }

    /// <summary>Tablet only: the display height, so ABS_Y runs 0..height-1. 0 (default) means QEMU's 0..32767.</summary>
    public int Height { get; set; }

    /// <summary>How many events wait for the guest at most; past it the oldest are dropped and counted.</summary>
    public int QueueBound { get; set; } = DefaultQueueBound;
}
