using System.Globalization;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>One line of /proc/self/maps: what this process has mapped at an address.</summary>
internal sealed record HostMapping(string Permissions, string Path)
{
    /// <summary>The mapping holding <paramref name="address"/> (permissions such as "rw-s", and the file), or null.</summary>
    public static HostMapping? Find(nint address)
    {
        ulong target = (ulong)address;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            // start-end perms offset dev inode [path]
            string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            string[] range = fields[0].Split('-');
            ulong start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (target >= start && target < end)
            {
                return new HostMapping(fields[1], fields.Length > 5 ? fields[5].Trim() : "");
            }
        }

        return null;
    }
}
