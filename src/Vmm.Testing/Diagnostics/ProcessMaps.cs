using System.Globalization;

namespace Vmm.Testing.Diagnostics;

/// <summary>One line of <c>/proc/self/maps</c>: what this process has mapped over a range.</summary>
/// <param name="Start">The first address.</param>
/// <param name="End">The address after the last.</param>
/// <param name="Permissions">The permission field: <c>rw-s</c> for a shared writable file mapping, <c>---p</c> for a reservation.</param>
/// <param name="Path">The mapped file, or empty for anonymous memory.</param>
/// <param name="Line">The whole line, inode included: it names this mapping even after the address is reused.</param>
public sealed record ProcessMapping(ulong Start, ulong End, string Permissions, string Path, string Line);

/// <summary>
/// Reads <c>/proc/self/maps</c> to see how the kernel maps an address without touching it: how tests prove a
/// shared-memory window range is the file they mapped, or inaccessible again.
/// </summary>
public static class ProcessMaps
{
    /// <summary>The mapping holding <paramref name="address"/>, or null when nothing is mapped there.</summary>
    public static ProcessMapping? Find(nint address)
    {
        ulong target = (ulong)address;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            // start-end perms offset dev inode [path]
            string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            int dash = fields[0].IndexOf('-', StringComparison.Ordinal);
            ulong start = ulong.Parse(fields[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(fields[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (target >= start && target < end)
            {
                return new ProcessMapping(start, end, fields[1], fields.Length > 5 ? fields[5].Trim() : "", line);
            }
        }

        return null;
    }

    /// <summary>The permission field of the mapping holding <paramref name="address"/>, or null.</summary>
    public static string? PermissionsAt(nint address) => Find(address)?.Permissions;
}
