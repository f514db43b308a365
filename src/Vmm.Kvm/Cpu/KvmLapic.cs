using System.Buffers.Binary;
using static Interop.Kvm;

namespace Vmm.Kvm.Cpu;

/// <summary>Local APIC register patches applied to a vCPU's in-kernel LAPIC.</summary>
internal static class KvmLapic
{
    private const int Lvt0Offset = 0x350;
    private const int Lvt1Offset = 0x360;
    private const int SpuriousVectorOffset = 0xF0;
    private const uint SoftwareEnable = 1 << 8;
    private const uint DeliveryModeMask = 0x700;
    private const uint DeliveryModeNmi = 4 << 8;
    private const uint DeliveryModeExtInt = 7 << 8;

    /// <summary>LINT0 = ExtINT (the 8259 path), LINT1 = NMI, as a PC wires them.</summary>
    public static unsafe void SetLocalInterrupts(ref kvm_lapic_state state)
    {
        fixed (byte* registers = state.regs)
        {
            Span<byte> page = new(registers, kvm_lapic_state.KVM_APIC_REG_SIZE);
            Patch(page.Slice(Lvt0Offset, 4), DeliveryModeExtInt);
            Patch(page.Slice(Lvt1Offset, 4), DeliveryModeNmi);
        }
    }

    /// <summary>Sets the spurious-vector register's enable bit (vector 0xFF), as a guest kernel would at boot.</summary>
    public static unsafe void SetSoftwareEnabled(ref kvm_lapic_state state)
    {
        fixed (byte* registers = state.regs)
        {
            Span<byte> register = new(registers + SpuriousVectorOffset, 4);
            BinaryPrimitives.WriteUInt32LittleEndian(register, BinaryPrimitives.ReadUInt32LittleEndian(register) | SoftwareEnable | 0xFF);
        }
    }

    /// <summary>Reads a 32-bit LAPIC register.</summary>
    public static unsafe uint Read(ref kvm_lapic_state state, int offset)
    {
        fixed (byte* registers = state.regs)
        {
            return BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(registers + offset, 4));
        }
    }

    private static void Patch(Span<byte> register, uint deliveryMode)
    {
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(register);
        BinaryPrimitives.WriteUInt32LittleEndian(register, (value & ~DeliveryModeMask) | deliveryMode);
    }
}
