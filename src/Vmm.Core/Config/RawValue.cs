using System.Text.Json;

namespace Vmm.Core.Config;

/// <summary>A JSON value of the config and where it was found.</summary>
/// <param name="Path">The value's JSON path.</param>
/// <param name="Element">The value.</param>
internal readonly record struct RawValue(string Path, JsonElement Element)
{
    /// <summary>The value's kind.</summary>
    public JsonValueKind Kind => Element.ValueKind;
}
