namespace Vmm.Kvm.Boot;

/// <summary>How the boot vCPU enters the loaded image.</summary>
public enum BootEntryMode
{
    /// <summary>Linux 64-bit boot protocol: long mode, identity map, RSI = zero page.</summary>
    Linux64,

    /// <summary>PVH: 32-bit protected mode without paging, EBX = <c>hvm_start_info</c>.</summary>
    Pvh32,

    /// <summary>A Vmm ring-3 payload: long mode with the <see cref="Payloads.LongModeGuest"/> layout, entered in ring 3.</summary>
    Ring3,
}

/// <summary>What a loader produced: where and how to start the boot vCPU.</summary>
/// <param name="Mode">The entry protocol.</param>
/// <param name="EntryPoint">The instruction pointer.</param>
/// <param name="BootInfoAddress">The zero page (RSI) or <c>hvm_start_info</c> (RBX); 0 for ring-3 payloads.</param>
/// <param name="KernelEnd">The end (exclusive) of the loaded image.</param>
/// <param name="Initrd">Where the initrd was put, or null.</param>
public sealed record BootEntry(BootEntryMode Mode, ulong EntryPoint, ulong BootInfoAddress, ulong KernelEnd, (ulong Address, ulong Size)? Initrd);
