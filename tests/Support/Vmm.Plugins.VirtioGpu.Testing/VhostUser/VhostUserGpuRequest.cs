namespace Vmm.Plugins.VirtioGpu.Testing.VhostUser;

/// <summary>
/// The requests a vhost-user-gpu back-end sends its front-end over the display socket that
/// VHOST_USER_GPU_SET_SOCKET handed it (QEMU docs/interop/vhost-user-gpu.rst).
/// </summary>
public enum VhostUserGpuRequest : uint
{
    /// <summary>No request.</summary>
    None = 0,

    /// <summary>Asks for the front-end's protocol features; the reply carries a u64.</summary>
    GetProtocolFeatures = 1,

    /// <summary>Enables protocol features (u64); no reply.</summary>
    SetProtocolFeatures = 2,

    /// <summary>Asks for the preferred display configuration; the reply is a virtio_gpu_resp_display_info.</summary>
    GetDisplayInfo = 3,

    /// <summary>Shows the cursor at a position.</summary>
    CursorPosition = 4,

    /// <summary>Hides the cursor.</summary>
    CursorPositionHide = 5,

    /// <summary>A new 64x64 cursor image and its position.</summary>
    CursorUpdate = 6,

    /// <summary>Sets a scanout's size; 0x0 disables it.</summary>
    Scanout = 7,

    /// <summary>A damaged rectangle and its pixels.</summary>
    Update = 8,

    /// <summary>Sets a scanout to a DMABUF (passed as a descriptor).</summary>
    DmabufScanout = 9,

    /// <summary>A damaged rectangle of the DMABUF scanout; the back-end waits for an empty reply.</summary>
    DmabufUpdate = 10,

    /// <summary>Asks for a scanout's EDID (with the EDID protocol feature); the reply is a virtio_gpu_resp_edid.</summary>
    GetEdid = 11,

    /// <summary>DMABUF scanout with a format modifier (with the DMABUF2 protocol feature).</summary>
    DmabufScanout2 = 12,
}
