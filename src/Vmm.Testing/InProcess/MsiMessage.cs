namespace Vmm.Testing.InProcess;

/// <summary>One MSI message a device sent.</summary>
/// <param name="Address">The message address (0xFEE00000 | destination on x86).</param>
/// <param name="Data">The message data (the vector).</param>
public readonly record struct MsiMessage(ulong Address, uint Data);
