using System.Globalization;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>Reads this process's /proc/self/maps: proves what a window range is mapped as.</summary>
internal static class ProcessMaps
{
    /// <summary>The permission field ("rw-s", "---p") of the mapping holding <paramref name="address"/>, or null.</summary>
    public static string? Find(nint address)
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
                return fields[1];
            }
        }

        return null;
    }
}
