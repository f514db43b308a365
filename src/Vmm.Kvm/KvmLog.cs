using Microsoft.Extensions.Logging;

namespace Vmm.Kvm;

/// <summary>The KVM platform's log messages (event ids 5000-5099).</summary>
internal static partial class KvmLog
{
    [LoggerMessage(5000, LogLevel.Debug, "KVM API {ApiVersion}, vCPU mmap size {MmapSize} bytes.")]
    public static partial void SystemOpened(ILogger logger, int apiVersion, int mmapSize);

    [LoggerMessage(5001, LogLevel.Debug, "VM created: in-kernel irqchip and PIT, TSS at 0x{TssAddress:x}.")]
    public static partial void VmCreated(ILogger logger, ulong tssAddress);

    [LoggerMessage(5002, LogLevel.Debug, "Memory slot {Slot}: guest 0x{GuestAddress:x} size 0x{Size:x}.")]
    public static partial void MemorySlotAdded(ILogger logger, uint slot, ulong guestAddress, ulong size);

    [LoggerMessage(5003, LogLevel.Information, "vCPU {VcpuId} stopped: {Exit}.")]
    public static partial void VcpuStopped(ILogger logger, int vcpuId, KvmVmExit exit);

    [LoggerMessage(5004, LogLevel.Information, "VM stopping: {Exit}.")]
    public static partial void VmStopping(ILogger logger, KvmVmExit exit);

    [LoggerMessage(5005, LogLevel.Debug, "GSI routing table set: {RouteCount} routes ({MsiCount} MSI).")]
    public static partial void RoutingSet(ILogger logger, int routeCount, int msiCount);

    [LoggerMessage(5006, LogLevel.Debug, "Boot MSR 0x{Index:x} is not in KVM's MSR list; not set.")]
    public static partial void BootMsrSkipped(ILogger logger, uint index);
}
