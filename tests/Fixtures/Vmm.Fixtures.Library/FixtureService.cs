namespace Vmm.Fixtures.Library;

/// <summary>A dependency of the missing-dependency fixture plugin.</summary>
public sealed class FixtureService
{
    /// <summary>Something to call.</summary>
    public string Name => "fixture";
}
