using System.Text;
using Vmm.Core.Config;
using Vmm.Core.Plugins;
using Vmm.Fuzz.Harness;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// VM config JSON through <see cref="VmConfig.Parse"/> with no plugins. Expected: a result (valid, or errors with
/// their JSON path). A finding: any exception, since a config file is user input that gets one line per error.
/// </summary>
public sealed class ConfigTarget : FuzzTarget
{
    private readonly string _baseDirectory = Directory.CreateTempSubdirectory("vmm-fuzz-config-").FullName;

    /// <inheritdoc/>
    public override string Name => "config";

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        string json = Encoding.UTF8.GetString(input);
        VmConfigResult result = VmConfig.Parse(json, _baseDirectory, _ => EmptyPluginCatalog.Instance, []);
        if (!result.IsValid && result.Errors.Count == 0)
        {
            throw new FuzzFindingException("an invalid config came back without an error");
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Directory.Delete(_baseDirectory, recursive: true);
        }
    }
}
