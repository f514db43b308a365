using System.Text;
using Vmm.Contracts.Devices;

namespace Vmm.Plugins.VirtioFs;

/// <summary>Builds <see cref="VirtioFsDevice"/>s from <see cref="VirtioFsOptions"/>.</summary>
public sealed class VirtioFsDeviceFactory : DeviceFactory<VirtioFsOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "virtio-fs";

    /// <summary>The most request queues a device offers.</summary>
    public const int MaxRequestQueues = 16;

    /// <summary>The largest <c>requestPollMicroseconds</c>: a longer poll only burns CPU (a kick costs a few microseconds).</summary>
    public const int MaxRequestPollMicroseconds = 1000;

    private const ulong DaxRangeSize = 2UL << 20;

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "Shared host directory (virtio-fs, FUSE passthrough) with an optional DAX window.";

    /// <summary>Whether <paramref name="tag"/> is a tag Linux accepts and we allow: 1 to 36 bytes of [A-Za-z0-9._-].</summary>
    public static bool IsValidTag(string? tag)
        => !string.IsNullOrEmpty(tag)
        && Encoding.UTF8.GetByteCount(tag) <= VirtioFsDevice.TagSize
        && tag.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>Parses the <c>umask</c> option: 1 to 4 octal digits, at most 0777.</summary>
    public static bool TryParseUmask(string? text, out uint mask)
    {
        mask = 0;
        if (string.IsNullOrEmpty(text) || text.Length > 4)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (c is < '0' or > '7')
            {
                return false;
            }

            mask = (mask * 8) + (uint)(c - '0');
        }

        return mask <= 0x1FF;
    }

    /// <inheritdoc />
    protected override void Validate(VirtioFsOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrWhiteSpace(options.SharedDir))
        {
            context.AddError("sharedDir", "is required: the host directory the guest sees.");
        }
        else if (!Directory.Exists(context.ResolvePath(options.SharedDir)))
        {
            context.AddError("sharedDir", $"'{context.ResolvePath(options.SharedDir)}' is not an existing directory.");
        }

        if (!IsValidTag(options.Tag))
        {
            context.AddError("tag", $"must be 1 to {VirtioFsDevice.TagSize} characters of A-Z, a-z, 0-9, '.', '_' or '-', not \"{options.Tag}\".");
        }

        if (options.NumRequestQueues is < 1 or > MaxRequestQueues)
        {
            context.AddError("numRequestQueues", $"must be from 1 to {MaxRequestQueues}, not {options.NumRequestQueues}.");
        }

        if (options.RequestPollMicroseconds is < 0 or > MaxRequestPollMicroseconds)
        {
            context.AddError("requestPollMicroseconds", $"must be from 0 (off) to {MaxRequestPollMicroseconds}, not {options.RequestPollMicroseconds}.");
        }

        if (options.Cache is not (VirtioFsOptions.CacheAuto or VirtioFsOptions.CacheAlways or VirtioFsOptions.CacheNever))
        {
            context.AddError("cache", $"must be \"auto\", \"always\" or \"never\", not \"{options.Cache}\".");
        }

        if (options.Dax is null)
        {
            context.AddError("dax", "must be an object (or left out).");
        }
        else if (options.Dax.WindowSize % DaxRangeSize != 0)
        {
            context.AddError("dax.windowSize", $"must be 0 (off) or a multiple of 2 MiB (2097152), not {options.Dax.WindowSize}.");
        }

        if (!TryParseUmask(options.Umask, out _))
        {
            context.AddError("umask", $"must be an octal mask from \"0\" to \"777\" (for example \"022\"), not \"{options.Umask}\".");
        }

        ValidateMap(options.UidMap, "uidMap", context);
        ValidateMap(options.GidMap, "gidMap", context);
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, VirtioFsOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        string sharedDir = Path.GetFullPath(options.SharedDir!, context.BaseDirectory);
        return new VirtioFsDevice(context.Id, sharedDir, options, context.LoggerFactory, context.MeterFactory, context.Services.GetService(typeof(FileExportTable)) as FileExportTable);
    }

    private static void ValidateMap(IReadOnlyList<VirtioFsIdMapping>? map, string name, DeviceOptionsValidationContext context)
    {
        if (map is null)
        {
            context.AddError(name, "must be an array (or left out).");
            return;
        }

        for (int i = 0; i < map.Count; i++)
        {
            VirtioFsIdMapping range = map[i];
            if (range.Count == 0 || range.Guest > uint.MaxValue - range.Count || range.Host > uint.MaxValue - range.Count)
            {
                context.AddError($"{name}[{i}]", "needs a count of at least 1 and must not run past id 4294967295.");
            }
        }
    }
}
