namespace Vmm.Plugins.Display.TestPattern;

/// <summary>The options of a <c>display-test-pattern</c> source.</summary>
public sealed class TestPatternOptions
{
    /// <summary>Width in pixels.</summary>
    public int Width { get; set; } = 1280;

    /// <summary>Height in pixels.</summary>
    public int Height { get; set; } = 800;

    /// <summary>What to draw.</summary>
    public TestPatternKind Pattern { get; set; } = TestPatternKind.Bars;

    /// <summary>The colour of a <see cref="TestPatternKind.Solid"/> picture, as <c>#rrggbb</c>.</summary>
    public string Color { get; set; } = "#3366cc";
}

/// <summary>The pictures a test-pattern source can show.</summary>
public enum TestPatternKind
{
    /// <summary>Eight vertical bars: white, yellow, cyan, green, magenta, red, blue, black.</summary>
    Bars,

    /// <summary>One colour, <see cref="TestPatternOptions.Color"/>.</summary>
    Solid,
}
