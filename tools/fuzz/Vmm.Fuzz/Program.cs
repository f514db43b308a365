using SharpFuzz;
using Vmm.Fuzz.Harness;

// Vmm.Fuzz TARGET          one input per run from stdin, under afl-fuzz (tools/fuzz/run.sh)
// Vmm.Fuzz TARGET FILE...  replays files (a corpus entry or a crash) and prints the first unexpected exception;
//                          replay with the plain build, as instrumented code runs only under afl-fuzz
if (args.Length == 0)
{
    Console.Error.WriteLine($"usage: Vmm.Fuzz TARGET [FILE...]; targets: {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}

if (!FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"Vmm.Fuzz: unknown target '{args[0]}'; targets: {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}

if (args.Length > 1)
{
    using FuzzTarget replayed = FuzzTargets.Create(args[0])!;
    foreach (string file in args.Skip(1))
    {
        replayed.Run(File.ReadAllBytes(file));
        Console.WriteLine($"{file}: ok");
    }

    return 0;
}

// Made on the first input: instrumented code may only run inside Fuzzer.Run (the coverage map exists from there on).
// FUZZ_CRASH_LOG=FILE appends every exception that afl records as a crash (run.sh sets it beside the findings).
string? crashLog = Environment.GetEnvironmentVariable("FUZZ_CRASH_LOG");
FuzzTarget? target = null;
byte[] buffer = new byte[1 << 20];
int current = 0;

// An exception on a thread the harness did not start (a device's own worker) ends the process, and afl then sees only
// a dead fork server, with no input saved: keep the input that was running and the exception beside the crash log.
if (crashLog is not null)
{
    AppDomain.CurrentDomain.UnhandledException += (_, e) =>
    {
        string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(buffer.AsSpan(0, current)));
        File.WriteAllBytes($"{crashLog}.process-{hash}", buffer.AsSpan(0, current).ToArray());
        File.AppendAllText(crashLog, $"--- {DateTime.UtcNow:O} the process ended on an unhandled exception during an input of {current} bytes, sha256 {hash} (saved beside this log)\n{e.ExceptionObject}\n");
    };
}

// afl kills an input that runs past -t, and with SharpFuzz's in-process loop that kills the whole harness (afl reports
// a dead fork server and saves nothing): an input still running after FUZZ_HANG_MS (8 s) is saved beside the crash log.
long inputStarted = 0;
int hangMilliseconds = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_HANG_MS"), out int ms) && ms > 0 ? ms : 8_000;
using Timer? hangWatch = crashLog is null ? null : new Timer(
    _ =>
    {
        long started = Volatile.Read(ref inputStarted);
        if (started != 0 && Environment.TickCount64 - started > hangMilliseconds && Interlocked.CompareExchange(ref inputStarted, 0, started) == started)
        {
            string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(buffer.AsSpan(0, current)));
            File.WriteAllBytes($"{crashLog}.hang-{hash}", buffer.AsSpan(0, current).ToArray());
            File.AppendAllText(crashLog, $"--- {DateTime.UtcNow:O} an input of {current} bytes, sha256 {hash}, still running after {hangMilliseconds} ms (saved beside this log)\n");
        }
    },
    null,
    1_000,
    1_000);
Fuzzer.Run(stream =>
{
    target ??= FuzzTargets.Create(args[0])!;
    int length = 0;
    int read;
    while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
    {
        length += read;
    }

    current = length;
    Volatile.Write(ref inputStarted, Environment.TickCount64);
    try
    {
        target.Run(buffer.AsSpan(0, length));
    }
    catch (Exception exception) when (crashLog is not null)
    {
        // afl keeps the input but not the exception; an input that fails only after others ran needs both.
        File.AppendAllText(crashLog, $"--- {DateTime.UtcNow:O} input of {length} bytes, sha256 {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(buffer.AsSpan(0, length)))}\n{exception}\n");
        throw;
    }
    finally
    {
        Volatile.Write(ref inputStarted, 0);
    }
});
return 0;
