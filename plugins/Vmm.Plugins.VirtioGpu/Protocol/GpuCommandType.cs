namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>virtio_gpu_ctrl_type command values (virtio 1.2 §5.7.6.7).</summary>
internal static class GpuCommandType
{
    public const uint GetDisplayInfo = 0x0100;
    public const uint ResourceCreate2D = 0x0101;
    public const uint ResourceUnref = 0x0102;
    public const uint SetScanout = 0x0103;
    public const uint ResourceFlush = 0x0104;
    public const uint TransferToHost2D = 0x0105;
    public const uint ResourceAttachBacking = 0x0106;
    public const uint ResourceDetachBacking = 0x0107;
    public const uint GetCapsetInfo = 0x0108;
    public const uint GetCapset = 0x0109;
    public const uint GetEdid = 0x010A;
    public const uint ResourceCreateBlob = 0x010C;
    public const uint SetScanoutBlob = 0x010D;
    public const uint ContextCreate = 0x0200;
    public const uint ContextDestroy = 0x0201;
    public const uint ContextAttachResource = 0x0202;
    public const uint ContextDetachResource = 0x0203;
    public const uint Submit3D = 0x0207;
    public const uint ResourceMapBlob = 0x0208;
    public const uint ResourceUnmapBlob = 0x0209;
    public const uint UpdateCursor = 0x0300;
    public const uint MoveCursor = 0x0301;
}
