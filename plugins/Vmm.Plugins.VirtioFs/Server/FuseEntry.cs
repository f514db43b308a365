namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// A node the guest now holds one more lookup of (LOOKUP, the creates, LINK, each READDIRPLUS record), with its
/// attributes and how long the guest may cache both. Node id 0 is an entry that counts no lookup.
/// </summary>
internal readonly record struct FuseEntry(ulong NodeId, FuseAttr Attr, ulong TimeoutSeconds);
