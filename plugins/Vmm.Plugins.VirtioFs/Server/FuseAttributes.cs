namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>A node's attributes (GETATTR, SETATTR) and how long the guest may cache them.</summary>
internal readonly record struct FuseAttributes(FuseAttr Attr, ulong TimeoutSeconds);
