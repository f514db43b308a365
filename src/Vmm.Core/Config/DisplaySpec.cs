namespace Vmm.Core.Config;

/// <summary>The validated <c>display</c> section: which device is shown and where.</summary>
/// <param name="Source">The id of the display source device.</param>
/// <param name="Sinks">The ids of the sink devices.</param>
public sealed record DisplaySpec(string Source, IReadOnlyList<string> Sinks);
