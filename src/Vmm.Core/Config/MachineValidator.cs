using System.Text.Json;

namespace Vmm.Core.Config;

/// <summary>Checks the <c>machine</c> section: memory, vCPUs, kernel, initrd and command line.</summary>
internal static class MachineValidator
{
    private const ulong MemoryGranule = 2UL << 20;
    private const int MaxVcpus = 255;

    /// <summary>Validates <paramref name="machine"/> (null when the section is absent: every default).</summary>
    public static MachineSpec Validate(RawObject? machine, string baseDirectory, ICollection<ConfigError> errors)
    {
        if (machine is null)
        {
            return new MachineSpec(MachineSpec.DefaultMemoryBytes, 1, null, null, MachineSpec.DefaultCommandLine);
        }

        ulong memory = machine["memory"] is RawValue memoryValue ? Memory(memoryValue, errors) : MachineSpec.DefaultMemoryBytes;
        int vcpus = machine["vcpus"] is RawValue vcpusValue ? ConfigValues.Integer(vcpusValue, 1, MaxVcpus, errors) ?? 1 : 1;
        string? kernel = ConfigValues.ExistingFile(machine["kernel"], baseDirectory, errors);
        string? initrd = ConfigValues.ExistingFile(machine["initrd"], baseDirectory, errors);
        string commandLine = machine["cmdline"] is RawValue cmdline
            ? ConfigValues.String(cmdline, "a kernel command line string", errors) ?? string.Empty
            : MachineSpec.DefaultCommandLine;
        if (machine["initrd"] is RawValue initrdValue && machine["kernel"] is null)
        {
            errors.Add(new ConfigError(initrdValue.Path, "expected an initrd only together with a kernel, got an initrd without $.machine.kernel"));
        }

        return new MachineSpec(memory, vcpus, kernel, initrd, commandLine);
    }

    private static ulong Memory(RawValue value, ICollection<ConfigError> errors)
    {
        ulong bytes;
        if (value.Kind == JsonValueKind.String)
        {
            if (!SizeParser.TryParse(value.Element.GetString()!, out bytes))
            {
                ConfigValues.Wrong(value, "a size such as \"512M\", \"2G\" or \"1536MiB\", or a byte count", errors);
                return 0;
            }
        }
        else if (value.Kind != JsonValueKind.Number || !value.Element.TryGetUInt64(out bytes))
        {
            ConfigValues.Wrong(value, "a size such as \"512M\", \"2G\" or \"1536MiB\", or a byte count", errors);
            return 0;
        }

        if (bytes < MemoryGranule)
        {
            errors.Add(new ConfigError(value.Path, $"expected a size of at least 2 MiB such as \"512M\", got {JsonValueText.Literal(value.Element)}"));
        }
        else if (bytes % MemoryGranule != 0)
        {
            errors.Add(new ConfigError(value.Path, $"expected a size that is a multiple of 2 MiB such as \"512M\", got {JsonValueText.Literal(value.Element)}"));
        }

        return bytes;
    }
}
