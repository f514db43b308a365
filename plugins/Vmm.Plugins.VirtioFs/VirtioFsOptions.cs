namespace Vmm.Plugins.VirtioFs;

/// <summary>The options of a <c>virtio-fs</c> device: which host directory the guest sees, under which tag, and how.</summary>
public sealed class VirtioFsOptions
{
    /// <summary>Cache policy "auto": entries and attributes are cached for 1 s.</summary>
    public const string CacheAuto = "auto";

    /// <summary>Cache policy "always": cached for a day, open files keep their page cache.</summary>
    public const string CacheAlways = "always";

    /// <summary>Cache policy "never": nothing cached, I/O bypasses the guest page cache.</summary>
    public const string CacheNever = "never";

    /// <summary>The host directory to share (must exist); relative to the config's folder.</summary>
    public string? SharedDir { get; set; }

    /// <summary>The mount tag the guest uses (<c>mount -t virtiofs TAG /mnt</c>): 1 to 36 bytes of [A-Za-z0-9._-].</summary>
    public string Tag { get; set; } = "share";

    /// <summary>Refuse every change (EROFS).</summary>
    public bool ReadOnly { get; set; }

    /// <summary>num_request_queues; Linux 6.1 only ever uses the first.</summary>
    public int NumRequestQueues { get; set; } = 1;

    /// <summary>
    /// The longest time, in microseconds, a request queue's thread busy-polls its ring for the next request before
    /// it sleeps until a kick (the window adapts below this, down to no polling for an idle queue). 0 turns
    /// polling off. Polling spends CPU to save the kick, the wake-up and a thread hand-off per request.
    /// </summary>
    public int RequestPollMicroseconds { get; set; } = DefaultRequestPollMicroseconds;

    /// <summary>The default of <see cref="RequestPollMicroseconds"/>.</summary>
    public const int DefaultRequestPollMicroseconds = 50;

    /// <summary>"auto" (default), "always" or "never".</summary>
    public string Cache { get; set; } = CacheAuto;

    /// <summary>The DAX window.</summary>
    public VirtioFsDaxOptions Dax { get; set; } = new();

    /// <summary>User id ranges between guest and host; empty means ids pass through.</summary>
    public IReadOnlyList<VirtioFsIdMapping> UidMap { get; set; } = [];

    /// <summary>Group id ranges between guest and host; empty means ids pass through.</summary>
    public IReadOnlyList<VirtioFsIdMapping> GidMap { get; set; } = [];

    /// <summary>
    /// Whether a guest's MKNOD may create character and block device nodes (as root may on Linux). They are never
    /// opened by the server, but a host user who can reach the share could open them; false answers EPERM.
    /// </summary>
    public bool DeviceNodes { get; set; } = true;

    /// <summary>
    /// Whether set-user-ID and set-group-ID bits are kept as the host kernel keeps them (set by chmod, dropped on
    /// write, truncate and chown by a caller without CAP_FSETID). False strips them from every mode the guest
    /// sets, so no set-ID program can be planted on the host.
    /// </summary>
    public bool KeepSetId { get; set; } = true;

    /// <summary>
    /// Permission bits removed from the mode of every node the guest creates, as an octal string ("022"), on top
    /// of the guest's own umask. Default "0": the guest's mode reaches the host as the guest asked, whatever the
    /// VMM's own umask.
    /// </summary>
    public string Umask { get; set; } = "0";
}
