using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Vmm.Core.Hosting;
using Xunit;
using static Interop.Kvm;

namespace Vmm.Kvm.Tests.Interop;

/// <summary>
/// Generates C from the C# values (ioctl numbers, struct sizes and offsets, constants), compiles it with gcc against
/// &lt;linux/kvm.h&gt; and fails with every mismatch gcc reports.
/// </summary>
public sealed partial class KvmHeaderLayoutTests
{
    private readonly ITestOutputHelper _output;

    public KvmHeaderLayoutTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void CSharpValuesMatchTheKernelHeaders()
    {
        string? gcc = ExecutableSearch.FindOnPath("gcc");
        if (gcc is null)
        {
            Assert.Skip("gcc is not on PATH: cannot compile the header check.");
        }

        if (!File.Exists("/usr/include/linux/kvm.h"))
        {
            Assert.Skip("/usr/include/linux/kvm.h is missing (install linux-libc-dev): cannot check the KVM ABI.");
        }

        List<(string Name, string Expression, ulong Value)> checks = [.. Checks()];
        string directory = Directory.CreateTempSubdirectory("vmm-kvm-abi-").FullName;
        try
        {
            string source = Path.Combine(directory, "check.c");
            File.WriteAllText(source, GenerateC(checks));
            (int exitCode, string errors) = Run(gcc, $"-std=c11 -fsyntax-only -Wall \"{source}\"");
            string[] failed = [.. FailedAssertion().Matches(errors).Select(match => match.Groups[1].Value).Distinct()];
            foreach (string name in failed)
            {
                _output.WriteLine("mismatch: " + name);
            }

            Assert.True(exitCode == 0 && failed.Length == 0, $"{failed.Length} mismatches against linux/kvm.h:\n{string.Join('\n', failed)}\n{errors}");
            _output.WriteLine($"{checks.Count} values checked against the C headers.");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static IEnumerable<(string Name, string Expression, ulong Value)> Checks()
    {
        foreach (FieldInfo field in typeof(global::Interop.Kvm).GetFields(BindingFlags.Static | BindingFlags.NonPublic))
        {
            if (!field.Name.StartsWith("KVM_", StringComparison.Ordinal) || field.Name is "KVM_MAX_CPUID_ENTRIES")
            {
                continue;
            }

            object? value = field.GetValue(null);
            ulong number = Convert.ToUInt64(value, CultureInfo.InvariantCulture);
            yield return (field.Name, field.Name, number);
        }

        yield return Size<kvm_regs>("struct kvm_regs");
        yield return Size<kvm_segment>("struct kvm_segment");
        yield return Size<kvm_dtable>("struct kvm_dtable");
        yield return Size<kvm_sregs>("struct kvm_sregs");
        yield return Size<kvm_fpu>("struct kvm_fpu");
        yield return Size<kvm_userspace_memory_region>("struct kvm_userspace_memory_region");
        yield return Size<kvm_cpuid2>("struct kvm_cpuid2");
        yield return Size<kvm_cpuid_entry2>("struct kvm_cpuid_entry2");
        yield return Size<kvm_msrs>("struct kvm_msrs");
        yield return Size<kvm_msr_entry>("struct kvm_msr_entry");
        yield return Size<kvm_msr_list>("struct kvm_msr_list");
        yield return Size<kvm_lapic_state>("struct kvm_lapic_state");
        yield return Size<kvm_pit_config>("struct kvm_pit_config");
        yield return Size<kvm_irq_level>("struct kvm_irq_level");
        yield return Size<kvm_msi>("struct kvm_msi");
        yield return Size<kvm_irq_routing>("struct kvm_irq_routing");
        yield return Size<kvm_irq_routing_entry>("struct kvm_irq_routing_entry");
        yield return Size<kvm_irq_routing_irqchip>("struct kvm_irq_routing_irqchip");
        yield return Size<kvm_irq_routing_msi>("struct kvm_irq_routing_msi");
        yield return Size<kvm_irqfd>("struct kvm_irqfd");
        yield return Size<kvm_ioeventfd>("struct kvm_ioeventfd");
        yield return Size<kvm_run>("struct kvm_run");
        yield return Size<sigaction_t>("struct sigaction");

        foreach (string field in new[] { "rax", "rcx", "rsi", "rdi", "rsp", "rbp", "r8", "r15", "rip", "rflags" })
        {
            yield return Offset<kvm_regs>(field, "struct kvm_regs", field);
        }

        foreach (string field in new[] { "base", "limit", "selector", "type", "present", "dpl", "db", "s", "l", "g", "avl", "unusable" })
        {
            yield return Offset<kvm_segment>(field, "struct kvm_segment", field);
        }

        yield return Offset<kvm_dtable>("limit", "struct kvm_dtable", "limit");
        foreach (string field in new[] { "cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt", "gdt", "idt", "cr0", "cr2", "cr3", "cr4", "cr8", "efer", "apic_base", "interrupt_bitmap" })
        {
            yield return Offset<kvm_sregs>(field, "struct kvm_sregs", field);
        }

        foreach (string field in new[] { "fpr", "fcw", "fsw", "ftwx", "last_opcode", "last_ip", "last_dp", "xmm", "mxcsr" })
        {
            yield return Offset<kvm_fpu>(field, "struct kvm_fpu", field);
        }

        foreach (string field in new[] { "slot", "flags", "guest_phys_addr", "memory_size", "userspace_addr" })
        {
            yield return Offset<kvm_userspace_memory_region>(field, "struct kvm_userspace_memory_region", field);
        }

        foreach (string field in new[] { "function", "index", "flags", "eax", "ebx", "ecx", "edx" })
        {
            yield return Offset<kvm_cpuid_entry2>(field, "struct kvm_cpuid_entry2", field);
        }

        yield return Offset<kvm_msr_entry>("data", "struct kvm_msr_entry", "data");
        yield return Offset<kvm_msi>("data", "struct kvm_msi", "data");
        yield return Offset<kvm_msi>("devid", "struct kvm_msi", "devid");
        yield return Offset<kvm_irq_routing_entry>("type", "struct kvm_irq_routing_entry", "type");
        yield return Offset<kvm_irq_routing_entry>("u", "struct kvm_irq_routing_entry", "u");
        yield return Offset<kvm_irq_routing_entry>("u.irqchip.pin", "struct kvm_irq_routing_entry", "u.irqchip.pin");
        yield return Offset<kvm_irq_routing_entry>("u.msi.data", "struct kvm_irq_routing_entry", "u.msi.data");
        yield return Offset<kvm_irqfd>("gsi", "struct kvm_irqfd", "gsi");
        yield return Offset<kvm_irqfd>("flags", "struct kvm_irqfd", "flags");
        foreach (string field in new[] { "addr", "len", "fd", "flags" })
        {
            yield return Offset<kvm_ioeventfd>(field, "struct kvm_ioeventfd", field);
        }

        foreach (string field in new[] { "immediate_exit", "exit_reason", "ready_for_interrupt_injection", "if_flag", "cr8", "apic_base", "kvm_valid_regs", "kvm_dirty_regs", "s" })
        {
            yield return Offset<kvm_run>(field, "struct kvm_run", field);
        }

        foreach ((string member, string[] fields) in new (string, string[])[]
        {
            ("io", ["direction", "size", "port", "count", "data_offset"]),
            ("mmio", ["phys_addr", "data", "len", "is_write"]),
            ("internal", ["suberror", "ndata", "data"]),
            ("system_event", ["type", "ndata", "data"]),
            ("fail_entry", ["hardware_entry_failure_reason", "cpu"]),
        })
        {
            foreach (string field in fields)
            {
                yield return Offset<kvm_run>($"exit.{member}.{field}", "struct kvm_run", $"{member}.{field}");
            }
        }

        yield return Offset<sigaction_t>("sa_mask", "struct sigaction", "sa_mask");
        yield return Offset<sigaction_t>("sa_flags", "struct sigaction", "sa_flags");
        yield return Offset<sigaction_t>("sa_restorer", "struct sigaction", "sa_restorer");
        yield return ("EFD_CLOEXEC", "EFD_CLOEXEC", global::Interop.EFD_CLOEXEC);
        yield return ("EFD_NONBLOCK", "EFD_NONBLOCK", global::Interop.EFD_NONBLOCK);
        foreach (string name in new[] { "O_RDWR", "O_CLOEXEC", "PROT_EXEC" })
        {
            object? value = typeof(global::Interop.Kvm).GetField(name, BindingFlags.Static | BindingFlags.NonPublic)!.GetValue(null);
            yield return (name, name, Convert.ToUInt64(value, CultureInfo.InvariantCulture));
        }
    }

    private static (string, string, ulong) Size<T>(string cType)
        where T : unmanaged => ($"sizeof({cType})", $"sizeof({cType})", (ulong)Unsafe.SizeOf<T>());

    private static (string, string, ulong) Offset<T>(string csharpPath, string cType, string cPath)
    {
        Type type = typeof(T);
        long offset = 0;
        foreach (string part in csharpPath.Split('.'))
        {
            string name = part is "base" or "internal" ? "@" + part : part;
            FieldInfo field = type.GetField(part, BindingFlags.Instance | BindingFlags.NonPublic)
                ?? throw new InvalidOperationException($"{type.Name} has no field {name}");
            offset += Marshal.OffsetOf(type, field.Name);
            type = field.FieldType;
        }

        return ($"offsetof({cType}, {cPath})", $"offsetof({cType}, {cPath})", (ulong)offset);
    }

    private static string GenerateC(List<(string Name, string Expression, ulong Value)> checks)
    {
        StringBuilder builder = new();
        builder.AppendLine("#define _GNU_SOURCE");
        builder.AppendLine("#include <stddef.h>");
        builder.AppendLine("#include <fcntl.h>");
        builder.AppendLine("#include <signal.h>");
        builder.AppendLine("#include <sys/eventfd.h>");
        builder.AppendLine("#include <sys/mman.h>");
        builder.AppendLine("#include <linux/kvm.h>");
        foreach ((string name, string expression, ulong value) in checks)
        {
            builder.Append(CultureInfo.InvariantCulture, $"_Static_assert((unsigned long long)({expression}) == {value}ull, \"{name} (C# says 0x{value:x})\");\n");
        }

        return builder.ToString();
    }

    private static (int ExitCode, string Errors) Run(string program, string arguments)
    {
        ProcessStartInfo start = new(program, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using Process process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, errors);
    }

    [GeneratedRegex("static assertion failed: \"([^\"]*)\"")]
    private static partial Regex FailedAssertion();
}
