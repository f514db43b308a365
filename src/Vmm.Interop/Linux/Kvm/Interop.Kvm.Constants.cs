internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>The only stable API version (KVM_GET_API_VERSION).</summary>
        internal const int KVM_API_VERSION = 12;

        // kvm_run.exit_reason
        internal const uint KVM_EXIT_UNKNOWN = 0;
        internal const uint KVM_EXIT_EXCEPTION = 1;
        internal const uint KVM_EXIT_IO = 2;
        internal const uint KVM_EXIT_HYPERCALL = 3;
        internal const uint KVM_EXIT_DEBUG = 4;
        internal const uint KVM_EXIT_HLT = 5;
        internal const uint KVM_EXIT_MMIO = 6;
        internal const uint KVM_EXIT_IRQ_WINDOW_OPEN = 7;
        internal const uint KVM_EXIT_SHUTDOWN = 8;
        internal const uint KVM_EXIT_FAIL_ENTRY = 9;
        internal const uint KVM_EXIT_INTR = 10;
        internal const uint KVM_EXIT_NMI = 16;
        internal const uint KVM_EXIT_INTERNAL_ERROR = 17;
        internal const uint KVM_EXIT_SYSTEM_EVENT = 24;
        internal const uint KVM_EXIT_X86_RDMSR = 29;
        internal const uint KVM_EXIT_X86_WRMSR = 30;

        // kvm_run.io.direction
        internal const byte KVM_EXIT_IO_IN = 0;
        internal const byte KVM_EXIT_IO_OUT = 1;

        // kvm_run.system_event.type
        internal const uint KVM_SYSTEM_EVENT_SHUTDOWN = 1;
        internal const uint KVM_SYSTEM_EVENT_RESET = 2;
        internal const uint KVM_SYSTEM_EVENT_CRASH = 3;

        // KVM_CHECK_EXTENSION
        internal const int KVM_CAP_IRQCHIP = 0;
        internal const int KVM_CAP_HLT = 1;
        internal const int KVM_CAP_USER_MEMORY = 3;
        internal const int KVM_CAP_SET_TSS_ADDR = 4;
        internal const int KVM_CAP_EXT_CPUID = 7;
        internal const int KVM_CAP_NR_VCPUS = 9;
        internal const int KVM_CAP_NR_MEMSLOTS = 10;
        internal const int KVM_CAP_IRQ_ROUTING = 25;
        internal const int KVM_CAP_IRQFD = 32;
        internal const int KVM_CAP_PIT2 = 33;
        internal const int KVM_CAP_IOEVENTFD = 36;
        internal const int KVM_CAP_SET_IDENTITY_MAP_ADDR = 37;
        internal const int KVM_CAP_MAX_VCPUS = 66;
        internal const int KVM_CAP_TSC_DEADLINE_TIMER = 72;
        internal const int KVM_CAP_SIGNAL_MSI = 77;
        internal const int KVM_CAP_IOEVENTFD_ANY_LENGTH = 122;
        internal const int KVM_CAP_IMMEDIATE_EXIT = 136;

        // kvm_userspace_memory_region.flags
        internal const uint KVM_MEM_LOG_DIRTY_PAGES = 1;
        internal const uint KVM_MEM_READONLY = 2;

        // kvm_pit_config.flags
        internal const uint KVM_PIT_SPEAKER_DUMMY = 1;

        // kvm_irq_routing_entry.type and irqchip ids
        internal const uint KVM_IRQ_ROUTING_IRQCHIP = 1;
        internal const uint KVM_IRQ_ROUTING_MSI = 2;
        internal const uint KVM_IRQCHIP_PIC_MASTER = 0;
        internal const uint KVM_IRQCHIP_PIC_SLAVE = 1;
        internal const uint KVM_IRQCHIP_IOAPIC = 2;

        // kvm_irqfd.flags
        internal const uint KVM_IRQFD_FLAG_DEASSIGN = 1;

        // kvm_ioeventfd.flags (1 << kvm_ioeventfd_flag_nr_*)
        internal const uint KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
        internal const uint KVM_IOEVENTFD_FLAG_PIO = 2;
        internal const uint KVM_IOEVENTFD_FLAG_DEASSIGN = 4;

        // kvm_cpuid_entry2.flags
        internal const uint KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

        /// <summary>The errno of KVM_GET_SUPPORTED_CPUID / KVM_GET_MSR_INDEX_LIST when the buffer is too small.</summary>
        internal const int E2BIG = 7;

        /// <summary>Entries KVM_GET_SUPPORTED_CPUID may return at most here; more is E2BIG, retried larger.</summary>
        internal const int KVM_MAX_CPUID_ENTRIES = 256;
    }
}
