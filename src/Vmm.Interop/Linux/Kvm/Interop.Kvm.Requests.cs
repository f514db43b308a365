internal static partial class Interop
{
    internal static partial class Kvm
    {
        // Request numbers derived from the struct sizes, as linux/kvm.h derives them. A test compares every one
        // with the header; never write them as hex.

        // System fd (/dev/kvm).
        internal static readonly uint KVM_GET_API_VERSION = IO(0x00);
        internal static readonly uint KVM_CREATE_VM = IO(0x01);
        internal static readonly uint KVM_GET_MSR_INDEX_LIST = IOWR<kvm_msr_list>(0x02);
        internal static readonly uint KVM_CHECK_EXTENSION = IO(0x03);
        internal static readonly uint KVM_GET_VCPU_MMAP_SIZE = IO(0x04);
        internal static readonly uint KVM_GET_SUPPORTED_CPUID = IOWR<kvm_cpuid2>(0x05);

        // VM fd.
        internal static readonly uint KVM_CREATE_VCPU = IO(0x41);
        internal static readonly uint KVM_SET_USER_MEMORY_REGION = IOW<kvm_userspace_memory_region>(0x46);
        internal static readonly uint KVM_SET_TSS_ADDR = IO(0x47);
        internal static readonly uint KVM_SET_IDENTITY_MAP_ADDR = IOW<ulong>(0x48);
        internal static readonly uint KVM_CREATE_IRQCHIP = IO(0x60);
        internal static readonly uint KVM_IRQ_LINE = IOW<kvm_irq_level>(0x61);
        internal static readonly uint KVM_SET_GSI_ROUTING = IOW<kvm_irq_routing>(0x6a);
        internal static readonly uint KVM_IRQFD = IOW<kvm_irqfd>(0x76);
        internal static readonly uint KVM_CREATE_PIT2 = IOW<kvm_pit_config>(0x77);
        internal static readonly uint KVM_IOEVENTFD = IOW<kvm_ioeventfd>(0x79);
        internal static readonly uint KVM_SIGNAL_MSI = IOW<kvm_msi>(0xa5);

        // vCPU fd.
        internal static readonly uint KVM_RUN = IO(0x80);
        internal static readonly uint KVM_GET_REGS = IOR<kvm_regs>(0x81);
        internal static readonly uint KVM_SET_REGS = IOW<kvm_regs>(0x82);
        internal static readonly uint KVM_GET_SREGS = IOR<kvm_sregs>(0x83);
        internal static readonly uint KVM_SET_SREGS = IOW<kvm_sregs>(0x84);
        internal static readonly uint KVM_SET_MSRS = IOW<kvm_msrs>(0x89);
        internal static readonly uint KVM_SET_FPU = IOW<kvm_fpu>(0x8d);
        internal static readonly uint KVM_GET_LAPIC = IOR<kvm_lapic_state>(0x8e);
        internal static readonly uint KVM_SET_LAPIC = IOW<kvm_lapic_state>(0x8f);
        internal static readonly uint KVM_SET_CPUID2 = IOW<kvm_cpuid2>(0x90);
    }
}
