using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vmm.Core.Control;

/// <summary>
/// One command of the control API (<c>status</c>, <c>stop</c>, later <c>snapshot</c>, <c>input</c>, ...).
/// Commands from different clients run concurrently; a command must be safe against itself.
/// </summary>
public interface IControlCommand
{
    /// <summary>The name requests use (lower case, dashes).</summary>
    string Name { get; }

    /// <summary>A one-line description.</summary>
    string Description { get; }

    /// <summary>
    /// Runs the command. <paramref name="args"/> is the request's <c>args</c> object (empty when absent). The result
    /// becomes the reply's <c>result</c>; throw <see cref="ControlCommandException"/> to fail with a code.
    /// </summary>
    ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken);
}
