using System.Globalization;
using System.Runtime.InteropServices;
using static global::Interop.Credentials;

namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>
/// Per-thread file-system credentials, as a passthrough server needs them to create a file as the guest caller:
/// the kernel then checks the caller's permission in the parent directory and gives the new inode the caller's
/// owner (and the parent's group when it is set-group-id). Linux keeps credentials per thread; setfsuid/setfsgid
/// and the raw setgroups system call change only the calling thread. Use them on a dedicated thread, switch and
/// restore inside one synchronous block (never across an await).
/// </summary>
internal static class HostCredentials
{
    private const uint ReadBackId = uint.MaxValue;

    /// <summary>Whether this process may switch its file-system ids (CAP_SETUID and CAP_SETGID in the effective set).</summary>
    public static bool CanSwitch { get; } = ReadCanSwitch();

    /// <summary>The calling thread's file-system user id.</summary>
    public static uint CurrentFsUid => (uint)global::Interop.SetFsUid(ReadBackId);

    /// <summary>The calling thread's file-system group id.</summary>
    public static uint CurrentFsGid => (uint)global::Interop.SetFsGid(ReadBackId);

    /// <summary>
    /// Switches the calling thread's file-system ids to <paramref name="uid"/>/<paramref name="gid"/> (group
    /// first, while still privileged). Returns false, with nothing changed, when the kernel refused either.
    /// Undo with <see cref="Restore"/>.
    /// </summary>
    public static bool TrySwitch(uint uid, uint gid, out uint previousUid, out uint previousGid)
    {
        previousGid = (uint)global::Interop.SetFsGid(gid);
        previousUid = (uint)global::Interop.SetFsUid(uid);
        if (previousGid == gid && previousUid == uid)
        {
            // The thread already had these ids (a guest root on a root VMM): nothing changed, nothing to check.
            return true;
        }

        if (CurrentFsGid == gid && CurrentFsUid == uid)
        {
            return true;
        }

        Restore(previousUid, previousGid);
        return false;
    }

    /// <summary>Puts back the ids <see cref="TrySwitch"/> returned (user first, which brings the capabilities back).</summary>
    public static void Restore(uint previousUid, uint previousGid)
    {
        global::Interop.SetFsUid(previousUid);
        global::Interop.SetFsGid(previousGid);
        if (CurrentFsUid != previousUid || CurrentFsGid != previousGid)
        {
            // A thread left with a guest's ids would run every later request as that user.
            throw new InvalidOperationException($"Could not restore the file-system ids {previousUid}:{previousGid}.");
        }
    }

    /// <summary>
    /// Empties the calling thread's supplementary groups (only this thread: the raw system call), so a request
    /// run with the guest's fs ids is not also helped by the host process's groups (CVE-2022-0358). Needs CAP_SETGID.
    /// </summary>
    public static unsafe void DropSupplementaryGroupsOfThisThread()
    {
        long number = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => SYS_setgroups_x86_64,
            Architecture.Arm64 => SYS_setgroups_arm64,
            _ => throw new PlatformNotSupportedException($"setgroups on {RuntimeInformation.ProcessArchitecture}"),
        };
        global::Interop.CheckIo(global::Interop.SetGroupsRaw(number, 0, null), "setgroups(0)");
    }

    /// <summary>The calling thread's supplementary groups, from /proc/thread-self/status.</summary>
    public static IReadOnlyList<uint> SupplementaryGroupsOfThisThread()
    {
        string? line = File.ReadLines("/proc/thread-self/status").FirstOrDefault(l => l.StartsWith("Groups:", StringComparison.Ordinal));
        return line is null
            ? []
            : [.. line["Groups:".Length..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(g => uint.Parse(g, CultureInfo.InvariantCulture))];
    }

    private static bool ReadCanSwitch()
    {
        try
        {
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
            if (line is null || !ulong.TryParse(line.AsSpan("CapEff:".Length).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong effective))
            {
                return false;
            }

            const ulong wanted = (1UL << CAP_SETUID) | (1UL << CAP_SETGID);
            return (effective & wanted) == wanted;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
