namespace Vmm.Kvm.Platform;

/// <summary>Where the <c>kvm</c> platform's console goes and comes from.</summary>
public sealed class KvmPlatformOptions
{
    /// <summary>Receives the guest's UART (COM1) output byte by byte (use an unbuffered stream); null discards it.</summary>
    public Stream? ConsoleOutput { get; init; }

    /// <summary>Bytes read from here are the guest's UART input (a thread reads it while the VM runs); null for none.</summary>
    public Stream? ConsoleInput { get; init; }
}
