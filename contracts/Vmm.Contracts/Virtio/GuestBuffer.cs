namespace Vmm.Contracts.Virtio;

/// <summary>One descriptor's buffer: a guest physical range, already checked against guest memory.</summary>
/// <param name="Address">The guest physical address.</param>
/// <param name="Length">The length in bytes.</param>
public readonly record struct GuestBuffer(ulong Address, uint Length);
