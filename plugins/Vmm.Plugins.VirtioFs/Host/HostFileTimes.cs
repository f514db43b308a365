namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>One timestamp to set: a value, "now", or "leave it".</summary>
internal readonly record struct HostFileTime(long Seconds, long Nanoseconds, bool Now, bool Omit)
{
    /// <summary>Leave the timestamp as it is.</summary>
    public static HostFileTime Unchanged => new(0, 0, Now: false, Omit: true);

    /// <summary>Set the timestamp to the current time.</summary>
    public static HostFileTime CurrentTime => new(0, 0, Now: true, Omit: false);

    internal global::Interop.TimeSpec ToTimeSpec() => new()
    {
        Seconds = Seconds,
        Nanoseconds = Omit ? global::Interop.Fs.UTIME_OMIT : Now ? global::Interop.Fs.UTIME_NOW : Nanoseconds,
    };
}
