namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>What CREATE answers: the new (or existing) node's entry and the handle opened on it.</summary>
internal readonly record struct FuseCreated(FuseEntry Entry, FuseOpened Opened);
