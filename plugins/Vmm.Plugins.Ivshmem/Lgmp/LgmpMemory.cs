namespace Vmm.Plugins.Ivshmem.Lgmp;

/// <summary>A host allocation in shared memory: <paramref name="Offset"/> from the base, <paramref name="Size"/> bytes.</summary>
internal readonly record struct LgmpMemory(uint Offset, uint Size);

/// <summary>
/// A message a client read from a queue, copied out of shared memory and already checked: its payload
/// <c>[Offset, Offset + Size)</c> lies inside the region.
/// </summary>
/// <param name="Udata">The message's 32-bit app value (KVMFR: the cursor flags).</param>
/// <param name="Offset">The payload's offset from the region base.</param>
/// <param name="Size">The payload's size in bytes.</param>
internal readonly record struct LgmpMessage(uint Udata, uint Offset, uint Size);
