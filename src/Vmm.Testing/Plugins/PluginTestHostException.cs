namespace Vmm.Testing.Plugins;

/// <summary>A plugin under test did not load, or a device could not be made from its options; the message says why.</summary>
public sealed class PluginTestHostException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PluginTestHostException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
