using SharpFuzz;
using Vmm.Fuzz.Harness;

// Vmm.Fuzz TARGET          one input per run from stdin, under afl-fuzz (tools/fuzz/run.sh)
// Vmm.Fuzz TARGET FILE...  replays files (a corpus entry or a crash) and prints the first unexpected exception
if (args.Length == 0)
{
    Console.Error.WriteLine($"usage: Vmm.Fuzz TARGET [FILE...]; targets: {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}

using FuzzTarget? target = FuzzTargets.Create(args[0]);
if (target is null)
{
    Console.Error.WriteLine($"Vmm.Fuzz: unknown target '{args[0]}'; targets: {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}

if (args.Length > 1)
{
    foreach (string file in args.Skip(1))
    {
        target.Run(File.ReadAllBytes(file));
        Console.WriteLine($"{file}: ok");
    }

    return 0;
}

byte[] buffer = new byte[1 << 20];
Fuzzer.Run(stream =>
{
    int length = 0;
    int read;
    while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
    {
        length += read;
    }

    target.Run(buffer.AsSpan(0, length));
});
return 0;
