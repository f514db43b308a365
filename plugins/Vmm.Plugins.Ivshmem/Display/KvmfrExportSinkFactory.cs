using Vmm.Contracts.Devices;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Display;

/// <summary>Builds <see cref="KvmfrExportSink"/>s from <see cref="KvmfrExportOptions"/>.</summary>
public sealed class KvmfrExportSinkFactory : DeviceFactory<KvmfrExportOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "kvmfr-export";

    /// <summary>Where an export without a path puts its file.</summary>
    public const string DefaultFolder = "/dev/shm";

    /// <summary>The longest subscriber timeout accepted: a minute.</summary>
    public const int MaximumSubscriberTimeoutMs = 60_000;

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "Display sink that publishes the active source as Looking Glass B7 KVMFR frames in a shared-memory file, for looking-glass-client -f FILE.";

    /// <summary>The file an export writes: the configured path, else <c>/dev/shm/vmm-kvmfr-ID</c>.</summary>
    public static string PathOf(string id, KvmfrExportOptions options, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Path is null ? $"{DefaultFolder}/vmm-kvmfr-{id}" : System.IO.Path.GetFullPath(options.Path, baseDirectory);
    }

    /// <inheritdoc />
    protected override void Validate(KvmfrExportOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        string? sizeProblem = SharedMemoryFile.CheckSize(options.Size);
        if (sizeProblem is not null)
        {
            context.AddError("size", sizeProblem + ".");
        }

        if (options.SubscriberTimeoutMs is < 1 or > MaximumSubscriberTimeoutMs)
        {
            context.AddError("subscriberTimeoutMs", $"must be from 1 to {MaximumSubscriberTimeoutMs} ms, got {options.SubscriberTimeoutMs}.");
        }

        if (options.Path is not null && string.IsNullOrWhiteSpace(options.Path))
        {
            context.AddError("path", "must be a file path (for example \"/dev/shm/looking-glass\") or left out for /dev/shm/vmm-kvmfr-ID.");
            return;
        }

        if (options.Path is null)
        {
            // The default file's name carries the device id, which validation does not know; its folder is what can fail.
            if (!Directory.Exists(DefaultFolder))
            {
                context.AddError("path", $"is not set and this host has no {DefaultFolder}; name a file on a tmpfs.");
            }

            return;
        }

        if (SharedMemoryPathCheck.Check(context.ResolvePath(options.Path), sizeProblem is null ? options.Size : null) is string pathProblem)
        {
            context.AddError("path", pathProblem);
        }
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, KvmfrExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        TimeProvider time = context.Services.GetService(typeof(TimeProvider)) as TimeProvider ?? TimeProvider.System;
        SharedMemoryFile memory = SharedMemoryFile.OpenOrCreate(PathOf(context.Id, options, context.BaseDirectory), options.Size);
        try
        {
            return new KvmfrExportSink(context.Id, memory, TimeSpan.FromMilliseconds(options.SubscriberTimeoutMs), context.LoggerFactory, time);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }
}
