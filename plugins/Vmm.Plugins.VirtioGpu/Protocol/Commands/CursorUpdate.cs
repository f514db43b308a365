using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// UPDATE_CURSOR and MOVE_CURSOR (struct virtio_gpu_update_cursor, 56 bytes): pos @24 (scanout_id @24, x @28,
/// y @32, padding @36), resource_id @40, hot_x @44, hot_y @48, padding @52. MOVE_CURSOR reads only pos.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct CursorUpdate(uint ScanoutId, uint X, uint Y, uint PositionPadding, uint ResourceId, uint HotX, uint HotY, uint Padding);
