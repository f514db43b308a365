using Vmm.Core.Bus;

namespace Vmm.Kvm.Payloads;

/// <summary>Where the payload IDT's handlers report an exception vector; stops the VM with it.</summary>
public sealed class GuestExceptionPort : IBusDevice
{
    /// <summary>The port the handlers write the vector to.</summary>
    public const ushort DefaultPort = 0x502;

    private readonly KvmVm _vm;

    /// <summary>Creates the port for <paramref name="vm"/>.</summary>
    public GuestExceptionPort(KvmVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        _vm = vm;
    }

    /// <inheritdoc/>
    public void Read(ulong offset, Span<byte> data) => data.Clear();

    /// <inheritdoc/>
    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        byte vector = data.IsEmpty ? (byte)0 : data[0];
        _vm.RequestStop(new KvmVmExit(KvmVmExitKind.GuestException, $"The guest took exception/interrupt vector {vector}.", vector));
    }
}
