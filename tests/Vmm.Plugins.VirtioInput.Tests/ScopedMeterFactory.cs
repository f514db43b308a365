using System.Diagnostics.Metrics;

namespace Vmm.Plugins.VirtioInput.Tests;

/// <summary>Creates meters scoped to itself, so a listener sees one test's devices and not those of tests running beside it.</summary>
internal sealed class ScopedMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (Meter meter in _meters)
        {
            meter.Dispose();
        }
    }
}
