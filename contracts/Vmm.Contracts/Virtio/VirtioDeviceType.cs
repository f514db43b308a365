namespace Vmm.Contracts.Virtio;

/// <summary>Virtio device ids (virtio 1.2 §5). The PCI device id is 0x1040 plus this value.</summary>
#pragma warning disable CA1028 // the wire type is a 16-bit id
public enum VirtioDeviceType : ushort
#pragma warning restore CA1028
{
    /// <summary>Network card.</summary>
    Net = 1,

    /// <summary>Block device.</summary>
    Block = 2,

    /// <summary>Console.</summary>
    Console = 3,

    /// <summary>Entropy source (virtio-rng).</summary>
    Entropy = 4,

    /// <summary>GPU.</summary>
    Gpu = 16,

    /// <summary>Input (keyboard, mouse, tablet, gamepad).</summary>
    Input = 18,

    /// <summary>Socket (vsock).</summary>
    Vsock = 19,

    /// <summary>File system (virtio-fs).</summary>
    FileSystem = 26,

    /// <summary>Sound.</summary>
    Sound = 25,
}
