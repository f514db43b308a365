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
FuzzTarget? target = null;
byte[] buffer = new byte[1 << 20];
Fuzzer.Run(stream =>
{
    target ??= FuzzTargets.Create(args[0])!;
    int length = 0;
    int read;
    while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
    {
        length += read;
    }

    target.Run(buffer.AsSpan(0, length));
});
return 0;
