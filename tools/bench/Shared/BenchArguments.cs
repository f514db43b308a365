using System.Globalization;

namespace Vmm.Bench;

/// <summary>
/// The command line of a side-by-side bench: <c>--name value</c> options and <c>--flag</c>s, declared once with
/// their range. A missing, malformed, out-of-range or unknown argument prints one line naming it and the usage,
/// never a .NET exception, and <see cref="TryParse"/> returns false (the bench then exits with 2).
/// </summary>
internal sealed class BenchArguments(string program)
{
    private readonly List<Option> _options = [];

    public BenchArguments Text(string name, string value, Action<string> set) => Add(name, value, text =>
    {
        set(text);
        return null;
    });

    public BenchArguments Int(string name, string value, Action<int> set, int min = 1, int max = int.MaxValue) => Add(name, value, text =>
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number) || number < min || number > max)
        {
            return max == int.MaxValue ? $"an integer of at least {min}" : $"an integer from {min} to {max}";
        }

        set(number);
        return null;
    });

    /// <summary>A positive number (seconds and the like).</summary>
    public BenchArguments Positive(string name, string value, Action<double> set) => Add(name, value, text =>
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || !(number > 0) || double.IsInfinity(number))
        {
            return "a positive number";
        }

        set(number);
        return null;
    });

    public BenchArguments Flag(string name, Action set)
    {
        _options.Add(new Option(name, null, _ =>
        {
            set();
            return null;
        }));
        return this;
    }

    public string Usage => $"usage: {program} {string.Join(' ', _options.Select(o => o.Value is null ? $"[{o.Name}]" : $"[{o.Name} {o.Value}]"))}";

    public bool TryParse(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            Option? option = _options.Find(o => o.Name == args[i]);
            string? error = option switch
            {
                null => $"unknown argument '{args[i]}'",
                { Value: null } => option.Apply(""),
                _ when i + 1 >= args.Length => $"{option.Name} needs {option.Value}",
                _ => option.Apply(args[++i]) is string wanted ? $"{option.Name} '{args[i]}': expected {wanted}" : null,
            };
            if (error is not null)
            {
                Console.Error.WriteLine($"{program}: {error}");
                Console.Error.WriteLine(Usage);
                return false;
            }
        }

        return true;
    }

    /// <summary>An option whose text <paramref name="apply"/> checks: it returns null once set, or what it expected.</summary>
    public BenchArguments Add(string name, string value, Func<string, string?> apply)
    {
        _options.Add(new Option(name, value, apply));
        return this;
    }

    /// <param name="Apply">Sets the value; returns what was expected instead when the text is not acceptable.</param>
    private sealed record Option(string Name, string? Value, Func<string, string?> Apply);
}
