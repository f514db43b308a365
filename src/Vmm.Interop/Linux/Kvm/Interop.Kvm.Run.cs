using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>
        /// struct kvm_run: the page KVM_RUN shares with user space (mmap of the vCPU fd). Only the header, the exit
        /// union and the sync-register words are declared; the mapping is larger (KVM_GET_VCPU_MMAP_SIZE).
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_run
        {
            internal byte request_interrupt_window;
            internal byte immediate_exit;
            internal fixed byte padding1[6];
            internal uint exit_reason;
            internal byte ready_for_interrupt_injection;
            internal byte if_flag;
            internal ushort flags;
            internal ulong cr8;
            internal ulong apic_base;
            internal kvm_run_exit exit;
            internal ulong kvm_valid_regs;
            internal ulong kvm_dirty_regs;
            internal fixed byte s[2048];
        }

        /// <summary>The exit-reason union of kvm_run (256 bytes at offset 32).</summary>
        [StructLayout(LayoutKind.Explicit, Size = 256)]
        internal struct kvm_run_exit
        {
            [FieldOffset(0)]
            internal kvm_run_fail_entry fail_entry;

            [FieldOffset(0)]
            internal kvm_run_io io;

            [FieldOffset(0)]
            internal kvm_run_mmio mmio;

            [FieldOffset(0)]
            internal kvm_run_internal @internal;

            [FieldOffset(0)]
            internal kvm_run_system_event system_event;
        }

        /// <summary>kvm_run.fail_entry (KVM_EXIT_FAIL_ENTRY).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_run_fail_entry
        {
            internal ulong hardware_entry_failure_reason;
            internal uint cpu;
        }

        /// <summary>kvm_run.io (KVM_EXIT_IO): the data is at <c>run + data_offset</c>, <c>count * size</c> bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_run_io
        {
            internal byte direction;
            internal byte size;
            internal ushort port;
            internal uint count;
            internal ulong data_offset;
        }

        /// <summary>kvm_run.mmio (KVM_EXIT_MMIO): for reads fill <c>data</c> before the next KVM_RUN.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_run_mmio
        {
            internal ulong phys_addr;
            internal fixed byte data[8];
            internal uint len;
            internal byte is_write;
        }

        /// <summary>kvm_run.internal (KVM_EXIT_INTERNAL_ERROR).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_run_internal
        {
            internal uint suberror;
            internal uint ndata;
            internal fixed ulong data[16];
        }

        /// <summary>kvm_run.system_event (KVM_EXIT_SYSTEM_EVENT).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_run_system_event
        {
            internal uint type;
            internal uint ndata;
            internal fixed ulong data[16];
        }
    }
}
