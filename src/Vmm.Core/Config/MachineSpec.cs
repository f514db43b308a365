namespace Vmm.Core.Config;

/// <summary>The validated <c>machine</c> section of a VM config.</summary>
/// <param name="MemoryBytes">Guest RAM in bytes; a multiple of 2 MiB.</param>
/// <param name="Vcpus">The number of vCPUs, 1 to 255.</param>
/// <param name="KernelPath">The kernel's absolute path; null means the platform's default guest kernel.</param>
/// <param name="InitrdPath">The initrd's absolute path; null means none, or the platform's default with a default kernel.</param>
/// <param name="CommandLine">The kernel command line.</param>
public sealed record MachineSpec(ulong MemoryBytes, int Vcpus, string? KernelPath, string? InitrdPath, string CommandLine)
{
    /// <summary>Memory when the config names none: 256 MiB.</summary>
    public const ulong DefaultMemoryBytes = 256UL << 20;

    /// <summary>The command line when the config names none.</summary>
    public const string DefaultCommandLine = "console=ttyS0";
}
