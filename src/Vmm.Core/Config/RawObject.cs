namespace Vmm.Core.Config;

/// <summary>A JSON object of the config whose member names were checked against the schema.</summary>
/// <param name="Path">The object's JSON path.</param>
/// <param name="Members">The known members present, by name.</param>
internal sealed record RawObject(string Path, IReadOnlyDictionary<string, RawValue> Members)
{
    /// <summary>Gets a member, or null when it is absent.</summary>
    public RawValue? this[string name] => Members.TryGetValue(name, out RawValue value) ? value : null;

    /// <summary>The path a member has, whether present or not.</summary>
    public string PathOf(string name) => JsonPath.Member(Path, name);
}
