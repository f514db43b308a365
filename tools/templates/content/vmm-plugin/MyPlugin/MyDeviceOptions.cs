namespace MyPlugin;

/// <summary>The device's options, read from a config's <c>devices[].options</c> (camelCase, unknown members rejected).</summary>
public sealed class MyDeviceOptions
{
    /// <summary>The byte every request is filled with.</summary>
    public int Fill { get; set; } = 0xA5;
}
