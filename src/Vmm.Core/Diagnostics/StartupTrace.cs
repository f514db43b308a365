using System.Diagnostics;
using System.Globalization;

namespace Vmm.Core.Diagnostics;

/// <summary>
/// Start-up milestones (config opened, plugins loaded, VM created, first vCPU entry, first UART byte), printed to
/// stderr as milliseconds since process start when <c>VMM_STARTUP_TRACE</c> is set. Off, a mark costs one field read.
/// </summary>
/// <remarks>
/// <para>
/// The origin: when the variable holds an integer, it is the <c>CLOCK_MONOTONIC</c> time in nanoseconds at which the
/// launcher spawned vmm (tools/bench/boot_time.py passes it, so the runtime's own start-up counts too); otherwise
/// the process start time from <c>/proc/self/stat</c>, which the kernel keeps in clock ticks (10 ms here).
/// </para>
/// <para>
/// Marks are kept in memory and written once, at <see cref="Flush"/> (the end of the command) or at the first UART
/// byte, so that tracing adds no console writes between the milestones it times.
/// </para>
/// </remarks>
public static class StartupTrace
{
    /// <summary>The environment variable that turns the trace on.</summary>
    public const string EnvironmentVariable = "VMM_STARTUP_TRACE";

    private const int MaxMarks = 32;
    private static readonly long s_origin;
    private static readonly (long Timestamp, string What)[] s_marks = new (long, string)[MaxMarks];
    private static readonly Lock s_lock = new();
    private static int s_count;
    private static int s_written;

    static StartupTrace()
    {
        string? value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        IsEnabled = true;
        // "1" (or any small number) means on, from the process start; a launcher's spawn time is seconds past boot.
        s_origin = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long spawned) && spawned > Stopwatch.Frequency
            ? spawned
            : ProcessStartTimestamp();
    }

    /// <summary>Whether <c>VMM_STARTUP_TRACE</c> is set.</summary>
    public static bool IsEnabled { get; }

    /// <summary>Records that <paramref name="what"/> happened now (the first mark of each name counts).</summary>
    public static void Mark(string what)
    {
        if (!IsEnabled)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        lock (s_lock)
        {
            for (int i = 0; i < s_count; i++)
            {
                if (ReferenceEquals(s_marks[i].What, what) || s_marks[i].What == what)
                {
                    return;
                }
            }

            if (s_count < MaxMarks)
            {
                s_marks[s_count++] = (now, what);
            }
        }
    }

    /// <summary>Writes the marks not written yet to stderr, one line each: <c>vmm: startup: 12.3 ms what</c>.</summary>
    public static void Flush()
    {
        if (!IsEnabled)
        {
            return;
        }

        lock (s_lock)
        {
            TextWriter error = Console.Error;
            for (; s_written < s_count; s_written++)
            {
                (long timestamp, string what) = s_marks[s_written];
                double ms = (timestamp - s_origin) * 1000.0 / Stopwatch.Frequency;
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"vmm: startup: {ms,8:F1} ms {what}"));
            }

            error.Flush();
        }
    }

    // Field 22 of /proc/self/stat: the start time in clock ticks since boot, on the clock CLOCK_MONOTONIC counts
    // (Stopwatch's on Linux) plus time suspended, which a running benchmark does not have.
    private static long ProcessStartTimestamp()
    {
        try
        {
            string stat = File.ReadAllText("/proc/self/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long ticks = long.Parse(fields[19], CultureInfo.InvariantCulture);
            const long ClockTicksPerSecond = 100;
            return ticks * (Stopwatch.Frequency / ClockTicksPerSecond);
        }
        catch (Exception exception) when (exception is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return Stopwatch.GetTimestamp();
        }
    }
}
