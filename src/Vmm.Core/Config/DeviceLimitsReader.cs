using System.Text.Json;
using Vmm.Core.Virtio.Execution;

namespace Vmm.Core.Config;

/// <summary>
/// Reads a device's <c>limits</c> object: what the host lets one virtio device take before it fails it (a host-side
/// setting, so it sits beside the plugin's <c>options</c>, not inside them).
/// </summary>
internal static class DeviceLimitsReader
{
    private const long MinManagedBytes = 1L << 20;
    private static readonly string[] s_members = ["hangSeconds", "fileDescriptors", "threads", "managedMemory", "sampleEvery"];

    /// <summary>The limits <paramref name="value"/> sets over <see cref="DeviceLimits.Default"/>; null when it is wrong (errors say why).</summary>
    public static DeviceLimits? Read(RawValue value, ICollection<ConfigError> errors)
    {
        int errorsBefore = errors.Count;
        if (VmConfigReader.ReadObject(value, s_members, errors) is not RawObject limits)
        {
            return null;
        }

        DeviceLimits result = DeviceLimits.Default;
        if (limits["hangSeconds"] is RawValue hang && ConfigValues.Integer(hang, 1, 3600, errors) is int seconds)
        {
            result = result with { Hang = TimeSpan.FromSeconds(seconds) };
        }

        if (limits["fileDescriptors"] is RawValue fds && ConfigValues.Integer(fds, 1, 1 << 20, errors) is int fdLimit)
        {
            result = result with { FileDescriptors = fdLimit };
        }

        if (limits["threads"] is RawValue threads && ConfigValues.Integer(threads, 1, 1 << 16, errors) is int threadLimit)
        {
            result = result with { Threads = threadLimit };
        }

        if (limits["managedMemory"] is RawValue memory && ManagedBytes(memory, errors) is long bytes)
        {
            result = result with { ManagedBytes = bytes };
        }

        if (limits["sampleEvery"] is RawValue sample && ConfigValues.Integer(sample, 1, 1 << 16, errors) is int every)
        {
            result = result with { SampleEvery = every };
        }

        return errors.Count == errorsBefore ? result : null;
    }

    private static long? ManagedBytes(RawValue value, ICollection<ConfigError> errors)
    {
        const string expected = "a size of at least 1 MiB such as \"512M\" or \"2G\", or a byte count";
        ulong bytes = 0;
        bool parsed = value.Kind switch
        {
            JsonValueKind.String => SizeParser.TryParse(value.Element.GetString()!, out bytes),
            JsonValueKind.Number => value.Element.TryGetUInt64(out bytes),
            _ => false,
        };
        if (!parsed || bytes < MinManagedBytes || bytes > long.MaxValue)
        {
            ConfigValues.Wrong(value, expected, errors);
            return null;
        }

        return (long)bytes;
    }
}
