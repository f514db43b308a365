using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Vmm.Interop;
using static Interop.Kvm;

namespace Vmm.Kvm;

/// <summary>
/// The host's <c>/dev/kvm</c>: checks the API version and the capabilities the platform relies on, reports what
/// the host supports (CPUID, MSRs), and creates VMs.
/// </summary>
public sealed class KvmSystem : IDisposable
{
    // What the platform relies on; each is named in the error when missing.
    private static readonly (int Capability, string Name)[] s_requiredCapabilities =
    [
        (KVM_CAP_IRQCHIP, "in-kernel irqchip (KVM_CAP_IRQCHIP)"),
        (KVM_CAP_USER_MEMORY, "user memory regions (KVM_CAP_USER_MEMORY)"),
        (KVM_CAP_SET_TSS_ADDR, "TSS address (KVM_CAP_SET_TSS_ADDR)"),
        (KVM_CAP_EXT_CPUID, "extended CPUID (KVM_CAP_EXT_CPUID)"),
        (KVM_CAP_IRQ_ROUTING, "GSI routing (KVM_CAP_IRQ_ROUTING)"),
        (KVM_CAP_IRQFD, "irqfd (KVM_CAP_IRQFD)"),
        (KVM_CAP_PIT2, "in-kernel PIT (KVM_CAP_PIT2)"),
        (KVM_CAP_IOEVENTFD, "ioeventfd (KVM_CAP_IOEVENTFD)"),
        (KVM_CAP_SIGNAL_MSI, "MSI injection (KVM_CAP_SIGNAL_MSI)"),
        (KVM_CAP_IMMEDIATE_EXIT, "vCPU kick (KVM_CAP_IMMEDIATE_EXIT)"),
    ];

    private readonly SafeFileHandle _kvm;
    private readonly ILoggerFactory _loggerFactory;
    private kvm_cpuid_entry2[]? _supportedCpuid;
    private uint[]? _msrIndices;

    private KvmSystem(SafeFileHandle kvm, ILoggerFactory loggerFactory)
    {
        _kvm = kvm;
        _loggerFactory = loggerFactory;
    }

    /// <summary>The path of the KVM device.</summary>
    public static string DevicePath => KvmDevicePath;

    /// <summary>Whether <c>/dev/kvm</c> exists (it may still be unusable: see <see cref="Open"/>).</summary>
    public static bool DeviceExists => File.Exists(KvmDevicePath);

    /// <summary>The size of each vCPU's shared run area.</summary>
    public int VcpuMmapSize { get; private set; }

    internal SafeFileHandle Handle => _kvm;

    internal ILoggerFactory LoggerFactory => _loggerFactory;

    /// <summary>Opens <c>/dev/kvm</c> and checks API version 12 and every capability the platform needs.</summary>
    /// <exception cref="KvmException">KVM is missing, not accessible, too old, or lacks a capability.</exception>
    public static KvmSystem Open(ILoggerFactory? loggerFactory = null)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        SafeFileHandle kvm;
        try
        {
            kvm = OpenKvm();
        }
        catch (NativeCallException exception)
        {
            throw new KvmException($"Cannot open {KvmDevicePath}: {exception.Message} The KVM platform needs a host with KVM and read-write access to {KvmDevicePath}.", exception);
        }

        KvmSystem system = new(kvm, loggerFactory);
        try
        {
            system.Validate();
            return system;
        }
        catch
        {
            system.Dispose();
            throw;
        }
    }

    /// <summary>Creates a VM with an in-kernel irqchip and PIT.</summary>
    public KvmVm CreateVm(KvmVmOptions? options = null) => new(this, options ?? new KvmVmOptions());

    /// <summary>KVM_CHECK_EXTENSION: 0 when unsupported, otherwise the capability's value (often 1).</summary>
    internal int CheckExtension(int capability) => Ioctl(_kvm, KVM_CHECK_EXTENSION, (nuint)capability);

    /// <summary>The CPUID table KVM supports (KVM_GET_SUPPORTED_CPUID), the base every vCPU's table is patched from.</summary>
    internal ReadOnlySpan<kvm_cpuid_entry2> SupportedCpuid => _supportedCpuid ??= ReadSupportedCpuid();

    /// <summary>Whether KVM lists <paramref name="index"/> among the MSRs it saves and restores.</summary>
    internal bool HasMsr(uint index)
    {
        // A plain scan of ~100 indices, asked a few times per VM: a HashSet<uint> would be JIT-compiled at start-up.
        foreach (uint listed in _msrIndices ??= ReadMsrIndexList())
        {
            if (listed == index)
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc/>
    public void Dispose() => _kvm.Dispose();

    private void Validate()
    {
        int version = Ioctl(_kvm, KVM_GET_API_VERSION, 0);
        if (version != KVM_API_VERSION)
        {
            throw new KvmException($"{KvmDevicePath} reports KVM API version {version}; the platform needs version {KVM_API_VERSION}.");
        }

        List<string> missing = [];
        foreach ((int capability, string name) in s_requiredCapabilities)
        {
            if (CheckExtension(capability) <= 0)
            {
                missing.Add(name);
            }
        }

        if (missing.Count > 0)
        {
            throw new KvmException($"{KvmDevicePath} lacks capabilities the KVM platform needs: {string.Join(", ", missing)}.");
        }

        VcpuMmapSize = global::Interop.CheckIo(Ioctl(_kvm, KVM_GET_VCPU_MMAP_SIZE, 0), "ioctl(KVM_GET_VCPU_MMAP_SIZE)");
        KvmLog.SystemOpened(_loggerFactory.CreateLogger<KvmSystem>(), version, VcpuMmapSize);
    }

    private unsafe kvm_cpuid_entry2[] ReadSupportedCpuid()
    {
        for (int capacity = KVM_MAX_CPUID_ENTRIES; ; capacity *= 2)
        {
            nuint bytes = (nuint)(sizeof(kvm_cpuid2) + (capacity * sizeof(kvm_cpuid_entry2)));
            void* buffer = NativeMemory.AllocZeroed(bytes);
            try
            {
                ((kvm_cpuid2*)buffer)->nent = (uint)capacity;
                if (Ioctl(_kvm, KVM_GET_SUPPORTED_CPUID, buffer) < 0)
                {
                    if (Marshal.GetLastPInvokeError() == E2BIG && capacity < 4096)
                    {
                        continue;
                    }

                    global::Interop.ThrowForLastError("ioctl(KVM_GET_SUPPORTED_CPUID)");
                }

                int count = (int)((kvm_cpuid2*)buffer)->nent;
                return new ReadOnlySpan<kvm_cpuid_entry2>((byte*)buffer + sizeof(kvm_cpuid2), count).ToArray();
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    private unsafe uint[] ReadMsrIndexList()
    {
        // The first call with room for none fails with E2BIG and says how many there are.
        kvm_msr_list probe = default;
        Ioctl(_kvm, KVM_GET_MSR_INDEX_LIST, &probe);
        int count = (int)probe.nmsrs;
        uint* buffer = (uint*)NativeMemory.AllocZeroed((nuint)((count + 1) * sizeof(uint)));
        try
        {
            buffer[0] = (uint)count;
            global::Interop.CheckIo(Ioctl(_kvm, KVM_GET_MSR_INDEX_LIST, buffer), "ioctl(KVM_GET_MSR_INDEX_LIST)");
            uint[] indices = new uint[buffer[0]];
            for (int i = 0; i < indices.Length; i++)
            {
                indices[i] = buffer[1 + i];
            }

            return indices;
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }
}
