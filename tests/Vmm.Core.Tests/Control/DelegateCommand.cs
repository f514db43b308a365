using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Control;

namespace Vmm.Core.Tests.Control;

internal sealed class DelegateCommand(string name, Func<JsonElement, CancellationToken, Task<JsonNode?>> execute) : IControlCommand
{
    public string Name => name;

    public string Description => "A test command.";

    public async ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken) =>
        await execute(args, cancellationToken).ConfigureAwait(false);
}
