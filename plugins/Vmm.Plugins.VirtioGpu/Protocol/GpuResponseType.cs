namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>virtio_gpu_ctrl_type response values.</summary>
internal static class GpuResponseType
{
    public const uint OkNoData = 0x1100;
    public const uint OkDisplayInfo = 0x1101;
    public const uint OkCapsetInfo = 0x1102;
    public const uint OkCapset = 0x1103;
    public const uint OkEdid = 0x1104;
    public const uint OkMapInfo = 0x1106;
    public const uint ErrUnspecified = 0x1200;
    public const uint ErrOutOfMemory = 0x1201;
    public const uint ErrInvalidScanoutId = 0x1202;
    public const uint ErrInvalidResourceId = 0x1203;
    public const uint ErrInvalidContextId = 0x1204;
    public const uint ErrInvalidParameter = 0x1205;
}
