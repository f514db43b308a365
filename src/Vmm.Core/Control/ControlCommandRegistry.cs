using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Vmm.Core.Control;

/// <summary>The commands a control server answers, by name. Commands may be added while the server runs.</summary>
public sealed class ControlCommandRegistry
{
    private readonly ConcurrentDictionary<string, IControlCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>The registered command names, sorted.</summary>
    public IReadOnlyList<string> Names => _commands.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Adds <paramref name="command"/>; fails when its name is taken.</summary>
    public void Add(IControlCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!_commands.TryAdd(command.Name, command))
        {
            throw new InvalidOperationException($"A control command named '{command.Name}' is already registered.");
        }
    }

    /// <summary>Finds a command by name.</summary>
    public bool TryGet(string name, [NotNullWhen(true)] out IControlCommand? command) => _commands.TryGetValue(name, out command);
}
