namespace Vmm.Core.Config;

/// <summary>The validated <c>control</c> section.</summary>
/// <param name="SocketPath">The absolute path of the control API's Unix socket.</param>
public sealed record ControlSpec(string SocketPath);
