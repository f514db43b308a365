using System.Globalization;

namespace Vmm.Core.Tests.Memory;

/// <summary>Reads /proc/self/maps to see how the kernel maps an address, without touching it.</summary>
internal static class ProcessMaps
{
    /// <summary>The permission field ("rw-s", "---p") of the mapping holding <paramref name="address"/>, or null.</summary>
    public static string? Find(nint address) => FindLine(address)?.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries)[1];

    /// <summary>The whole maps line (range, permissions, offset, device, inode, path) holding <paramref name="address"/>, or null.</summary>
    public static string? FindLine(nint address)
    {
        ulong target = (ulong)address;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            string[] fields = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
            string[] range = fields[0].Split('-');
            ulong start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (target >= start && target < end)
            {
                return line;
            }
        }

        return null;
    }
}
