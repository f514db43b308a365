using System.Buffers.Binary;
using Vmm.Core.Bus;

namespace Vmm.Kvm.Payloads;

/// <summary>
/// A paravirtual "I am done" port (like QEMU's isa-debug-exit at 0x501): a guest write stops the VM with
/// <see cref="KvmVmExitKind.GuestExit"/> and the written value as the exit code.
/// </summary>
public sealed class GuestExitPort : IBusDevice
{
    /// <summary>The port test payloads write their exit code to.</summary>
    public const ushort DefaultPort = 0x501;

    private readonly KvmVm _vm;

    /// <summary>Creates the port for <paramref name="vm"/>.</summary>
    public GuestExitPort(KvmVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        _vm = vm;
    }

    /// <inheritdoc/>
    public void Read(ulong offset, Span<byte> data) => data.Clear();

    /// <inheritdoc/>
    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        Span<byte> value = stackalloc byte[8];
        value.Clear();
        data[..Math.Min(data.Length, 8)].CopyTo(value);
        ulong code = BinaryPrimitives.ReadUInt64LittleEndian(value);
        _vm.RequestStop(new KvmVmExit(KvmVmExitKind.GuestExit, $"The guest wrote exit code {code}.", code));
    }
}
