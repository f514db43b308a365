using Microsoft.Extensions.Logging;

namespace Vmm.Kvm.Platform;

/// <summary>The KVM platform's log messages (event ids 5100-5149).</summary>
internal static partial class KvmPlatformLog
{
    [LoggerMessage(5100, LogLevel.Information, "Booting {Kernel} ({Mode} entry at 0x{Entry:x}) with {MemoryBytes} bytes of RAM and {Vcpus} vCPUs.")]
    public static partial void Booting(ILogger logger, string kernel, Boot.BootEntryMode mode, ulong entry, ulong memoryBytes, int vcpus);

    [LoggerMessage(5101, LogLevel.Debug, "Device '{Id}' ({Type}) at PCI 00:{Slot:x2}.0.")]
    public static partial void DeviceAttached(ILogger logger, string id, string type, int slot);

    [LoggerMessage(5102, LogLevel.Debug, "BAR {Bar} of PCI 00:{Slot:x2}.0 decodes at 0x{Address:x} (was 0x{Old:x}).")]
    public static partial void BarMoved(ILogger logger, int bar, int slot, ulong address, ulong old);

    [LoggerMessage(5103, LogLevel.Information, "VM ended: {Exit}.")]
    public static partial void Ended(ILogger logger, KvmVmExit exit);

    [LoggerMessage(5104, LogLevel.Warning, "Device '{Id}' failed: {Message}")]
    public static partial void DeviceFailed(ILogger logger, string id, string message);

    [LoggerMessage(5105, LogLevel.Warning, "BAR {Bar} of '{Id}' at 0x{Address:x} overlaps guest memory; it maps nothing there: {Message}")]
    public static partial void BarNotMapped(ILogger logger, int bar, string id, ulong address, string message);
}
