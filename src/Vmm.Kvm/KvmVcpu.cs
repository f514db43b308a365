using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Vmm.Core.Diagnostics;
using Vmm.Interop;
using Vmm.Kvm.Cpu;
using static Interop.Kvm;

namespace Vmm.Kvm;

/// <summary>
/// One virtual CPU: its fd, its shared <c>kvm_run</c> mapping, and the thread that runs it. Exits for port I/O and
/// MMIO go to the VM's buses without allocating; any other exit ends the VM with the reason.
/// </summary>
public sealed class KvmVcpu : IDisposable
{
    private readonly KvmVm _vm;
    private readonly SafeFileHandle _vcpu;
    private readonly SafeKvmRunHandle _run;
    private readonly Lock _threadLock = new();
    private Thread? _thread;
    private long _ioExitCount;
    private int _threadId;
    private bool _disposed;

    internal KvmVcpu(KvmVm vm, int id)
    {
        _vm = vm;
        Id = id;
        _vcpu = IoctlCreateFd(vm.Handle, KVM_CREATE_VCPU, (nuint)id, "ioctl(KVM_CREATE_VCPU)");
        try
        {
            _run = SafeKvmRunHandle.Map(_vcpu, (nuint)vm.System.VcpuMmapSize);
            SetCpuid();
            SetBootMsrs();
            kvm_lapic_state lapic = GetLapic();
            KvmLapic.SetLocalInterrupts(ref lapic);
            SetLapic(ref lapic);
        }
        catch
        {
            _run?.Dispose();
            _vcpu.Dispose();
            throw;
        }
    }

    /// <summary>The vCPU id (its initial APIC id).</summary>
    public int Id { get; }

    /// <summary>Port-I/O and MMIO exits this vCPU handed to the buses (written by its thread only).</summary>
    public long IoExitCount => Volatile.Read(ref _ioExitCount);

    /// <summary>Runs the vCPU on the calling thread until the VM stops; returns why this vCPU stopped.</summary>
    /// <remarks>For probes and tests that time one run; a VM normally runs its vCPUs with <see cref="KvmVm.Start"/>.</remarks>
    public KvmVmExit RunOnCurrentThread()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        KvmVmExit exit = RunUntilStopped();
        _vm.OnVcpuStopped(this, exit);
        return exit;
    }

    /// <summary>Stops the thread (if running) and releases the mapping and the fd.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Kick();
        _thread?.Join();
        _run.Dispose();
        _vcpu.Dispose();
    }

    internal void StartThread()
    {
        _thread = new Thread(ThreadMain)
        {
            IsBackground = true,
            Name = "vcpu" + Id.ToString(CultureInfo.InvariantCulture),
        };
        _thread.Start();
    }

    /// <summary>Makes the vCPU leave KVM_RUN now (or not enter it again) so its loop sees the stop request.</summary>
    internal void Kick()
    {
        bool added = false;
        try
        {
            // The ref keeps the mapping alive against a concurrent Dispose.
            _run.DangerousAddRef(ref added);
            Volatile.Write(ref _run.Run.immediate_exit, 1);
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        finally
        {
            if (added)
            {
                _run.DangerousRelease();
            }
        }

        lock (_threadLock)
        {
            if (_threadId != 0)
            {
                // ESRCH (the thread is just leaving) is fine: immediate_exit already covers it.
                TgKill(GetPid(), _threadId, EnsureVcpuKickSignal());
            }
        }
    }

    private void ThreadMain()
    {
        KvmVmExit exit;
        try
        {
            exit = RunUntilStopped();
        }
        catch (Exception exception) when (exception is ObjectDisposedException or NativeCallException)
        {
            exit = new KvmVmExit(KvmVmExitKind.PlatformError, $"vCPU {Id} could not run: {exception.Message}");
        }

        _vm.OnVcpuStopped(this, exit);
    }

    internal kvm_regs GetRegisters()
    {
        kvm_regs registers = default;
        global::Interop.CheckIo(Ioctl(_vcpu, KVM_GET_REGS, ref registers), "ioctl(KVM_GET_REGS)");
        return registers;
    }

    internal void SetRegisters(kvm_regs registers) =>
        global::Interop.CheckIo(Ioctl(_vcpu, KVM_SET_REGS, ref registers), "ioctl(KVM_SET_REGS)");

    internal kvm_sregs GetSpecialRegisters()
    {
        kvm_sregs registers = default;
        global::Interop.CheckIo(Ioctl(_vcpu, KVM_GET_SREGS, ref registers), "ioctl(KVM_GET_SREGS)");
        return registers;
    }

    internal void SetSpecialRegisters(kvm_sregs registers) =>
        global::Interop.CheckIo(Ioctl(_vcpu, KVM_SET_SREGS, ref registers), "ioctl(KVM_SET_SREGS)");

    /// <summary>x87 control word 0x37F and MXCSR 0x1F80: the power-on defaults the Linux boot protocol expects.</summary>
    internal void SetDefaultFpu()
    {
        kvm_fpu fpu = new() { fcw = 0x37F, mxcsr = 0x1F80 };
        global::Interop.CheckIo(Ioctl(_vcpu, KVM_SET_FPU, ref fpu), "ioctl(KVM_SET_FPU)");
    }

    internal kvm_lapic_state GetLapic()
    {
        kvm_lapic_state state = default;
        global::Interop.CheckIo(Ioctl(_vcpu, KVM_GET_LAPIC, ref state), "ioctl(KVM_GET_LAPIC)");
        return state;
    }

    internal void SetLapic(ref kvm_lapic_state state) =>
        global::Interop.CheckIo(Ioctl(_vcpu, KVM_SET_LAPIC, ref state), "ioctl(KVM_SET_LAPIC)");

    private unsafe void SetCpuid()
    {
        KvmSystem system = _vm.System;
        kvm_cpuid_entry2[] entries = KvmCpuid.ForVcpu(system.SupportedCpuid, (uint)Id, Math.Max(1, _vm.Vcpus.Count + 1), system.CheckExtension(KVM_CAP_TSC_DEADLINE_TIMER) > 0);
        nuint bytes = (nuint)(sizeof(kvm_cpuid2) + (entries.Length * sizeof(kvm_cpuid_entry2)));
        byte* buffer = (byte*)NativeMemory.AllocZeroed(bytes);
        try
        {
            ((kvm_cpuid2*)buffer)->nent = (uint)entries.Length;
            entries.CopyTo(new Span<kvm_cpuid_entry2>(buffer + sizeof(kvm_cpuid2), entries.Length));
            global::Interop.CheckIo(Ioctl(_vcpu, KVM_SET_CPUID2, buffer), "ioctl(KVM_SET_CPUID2)");
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    private unsafe void SetBootMsrs()
    {
        // After CPUID: KVM decides from the guest's CPUID which MSRs exist.
        // Arrays, not a list of tuples: generic code over a struct would be JIT-compiled at start-up.
        var indices = new uint[KvmBootMsrs.Entries.Length];
        var values = new ulong[indices.Length];
        int count = 0;
        foreach ((uint index, ulong value) in KvmBootMsrs.Entries)
        {
            if (_vm.System.HasMsr(index))
            {
                indices[count] = index;
                values[count++] = value;
            }
            else
            {
                KvmLog.BootMsrSkipped(_vm.LoggerFactory.CreateLogger<KvmVcpu>(), index);
            }
        }

        nuint bytes = (nuint)(sizeof(kvm_msrs) + (count * sizeof(kvm_msr_entry)));
        byte* buffer = (byte*)NativeMemory.AllocZeroed(bytes);
        try
        {
            ((kvm_msrs*)buffer)->nmsrs = (uint)count;
            kvm_msr_entry* entries = (kvm_msr_entry*)(buffer + sizeof(kvm_msrs));
            for (int i = 0; i < count; i++)
            {
                entries[i].index = indices[i];
                entries[i].data = values[i];
            }

            // KVM_SET_MSRS stops at the first MSR it rejects and returns how many it set.
            int set = global::Interop.CheckIo(Ioctl(_vcpu, KVM_SET_MSRS, buffer), "ioctl(KVM_SET_MSRS)");
            if (set < count)
            {
                throw new KvmException($"KVM rejected boot MSR 0x{indices[set]:x} (value 0x{values[set]:x}) on vCPU {Id}.");
            }
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    private KvmVmExit RunUntilStopped()
    {
        bool vcpuAdded = false;
        bool runAdded = false;
        lock (_threadLock)
        {
            _threadId = GetTid();
        }

        try
        {
            _vcpu.DangerousAddRef(ref vcpuAdded);
            _run.DangerousAddRef(ref runAdded);
            return RunLoop((int)_vcpu.DangerousGetHandle());
        }
        finally
        {
            lock (_threadLock)
            {
                _threadId = 0;
            }

            if (runAdded)
            {
                _run.DangerousRelease();
            }

            if (vcpuAdded)
            {
                _vcpu.DangerousRelease();
            }
        }
    }

    // The hot loop: no allocation until the VM ends.
    private KvmVmExit RunLoop(int fd)
    {
        ref kvm_run run = ref _run.Run;
        StartupTrace.Mark("first vCPU entry");
        while (!_vm.IsStopRequested)
        {
            if (IoctlRaw(fd, KVM_RUN, 0) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno is global::Interop.Errno.EINTR or global::Interop.Errno.EAGAIN)
                {
                    continue; // a kick, or the runtime's own signals
                }

                return new KvmVmExit(KvmVmExitKind.PlatformError, $"KVM_RUN failed on vCPU {Id}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }

            try
            {
                switch (run.exit_reason)
                {
                    case KVM_EXIT_IO:
                        DispatchIo(ref run.exit.io);
                        CountIoExit();
                        break;
                    case KVM_EXIT_MMIO:
                        DispatchMmio(ref run.exit.mmio);
                        CountIoExit();
                        break;
                    case KVM_EXIT_INTR:
                        break;
                    default:
                        return DescribeExit(ref run);
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                return new KvmVmExit(KvmVmExitKind.DeviceError, $"A device threw while serving vCPU {Id}: {exception}");
            }
        }

        return new KvmVmExit(KvmVmExitKind.Stopped, $"vCPU {Id} stopped on request.");
    }

    private void CountIoExit()
    {
        _ioExitCount++;
        if (KvmMetrics.IoExits.Enabled)
        {
            KvmMetrics.IoExits.Add(1);
        }
    }

    private void DispatchIo(ref kvm_run_io io)
    {
        int size = io.size;
        Span<byte> data = _run.GetIoData(io.data_offset, (uint)size * io.count);
        if (size == 0 || data.IsEmpty)
        {
            return;
        }

        ushort port = io.port;
        bool write = io.direction == KVM_EXIT_IO_OUT;
        for (int offset = 0; offset + size <= data.Length; offset += size)
        {
            Span<byte> item = data.Slice(offset, size);
            if (write)
            {
                _vm.PortBus.Write(port, item);
            }
            else
            {
                _vm.PortBus.Read(port, item);
            }
        }
    }

    private void DispatchMmio(ref kvm_run_mmio mmio)
    {
        Span<byte> data = _run.GetMmioData(mmio.len);
        if (mmio.is_write != 0)
        {
            _vm.MmioBus.Write(mmio.phys_addr, data);
        }
        else
        {
            _vm.MmioBus.Read(mmio.phys_addr, data);
        }
    }

    private unsafe KvmVmExit DescribeExit(ref kvm_run run)
    {
        switch (run.exit_reason)
        {
            case KVM_EXIT_HLT:
                return new KvmVmExit(KvmVmExitKind.Halted, $"vCPU {Id} halted. {DescribeRegisters()}");
            case KVM_EXIT_SHUTDOWN:
                return new KvmVmExit(KvmVmExitKind.GuestShutdown, $"vCPU {Id} shut down (triple fault or reset). {DescribeRegisters()}");
            case KVM_EXIT_SYSTEM_EVENT:
                uint type = run.exit.system_event.type;
                KvmVmExitKind kind = type switch
                {
                    KVM_SYSTEM_EVENT_RESET => KvmVmExitKind.GuestReset,
                    KVM_SYSTEM_EVENT_SHUTDOWN => KvmVmExitKind.GuestShutdown,
                    _ => KvmVmExitKind.PlatformError,
                };
                return new KvmVmExit(kind, $"vCPU {Id} raised system event {type}.", type);
            case KVM_EXIT_INTERNAL_ERROR:
                ref kvm_run_internal error = ref run.exit.@internal;
                List<string> data = [];
                for (int i = 0; i < Math.Min(error.ndata, 16u); i++)
                {
                    fixed (ulong* words = error.data)
                    {
                        data.Add("0x" + words[i].ToString("x", CultureInfo.InvariantCulture));
                    }
                }

                return new KvmVmExit(KvmVmExitKind.PlatformError, $"KVM internal error on vCPU {Id}: suberror {error.suberror} (1 = emulation failure), data [{string.Join(", ", data)}]. {DescribeRegisters()}", error.suberror);
            case KVM_EXIT_FAIL_ENTRY:
                ulong reason = run.exit.fail_entry.hardware_entry_failure_reason;
                return new KvmVmExit(KvmVmExitKind.PlatformError, $"VM entry failed on vCPU {Id}: hardware reason 0x{reason:x}. {DescribeRegisters()}", reason);
            default:
                return new KvmVmExit(KvmVmExitKind.PlatformError, $"vCPU {Id}: unhandled KVM exit reason {run.exit_reason}. {DescribeRegisters()}", run.exit_reason);
        }
    }

    private string DescribeRegisters()
    {
        try
        {
            kvm_regs regs = GetRegisters();
            kvm_sregs sregs = GetSpecialRegisters();
            return $"rip=0x{regs.rip:x} rsp=0x{regs.rsp:x} rflags=0x{regs.rflags:x} rax=0x{regs.rax:x} cs=0x{sregs.cs.selector:x} cr0=0x{sregs.cr0:x} cr3=0x{sregs.cr3:x} cr4=0x{sregs.cr4:x} efer=0x{sregs.efer:x}";
        }
        catch (NativeCallException exception)
        {
            return "(registers unavailable: " + exception.Message + ")";
        }
    }
}
