using Vmm.Contracts.Devices;
using Vmm.Plugins.Ivshmem.Display;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Device;

/// <summary>Builds <see cref="IvshmemDevice"/>s from <see cref="IvshmemOptions"/>.</summary>
public sealed class IvshmemDeviceFactory : DeviceFactory<IvshmemOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "ivshmem";

    /// <summary>The largest size allowed: half the kvm platform's 64-bit BAR window (Looking Glass itself uses under 4 GiB).</summary>
    public const long MaximumSize = 32L << 30;

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "IVSHMEM shared memory (PCI 1af4:1110, ivshmem-plain) backed by a host file or a memfd, as Looking Glass uses it.";

    /// <inheritdoc />
    protected override void Validate(IvshmemOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        string? sizeProblem = SharedMemoryFile.CheckSize(options.Size);
        if (sizeProblem is not null)
        {
            context.AddError("size", sizeProblem + ".");
        }
        else if (options.Size > MaximumSize)
        {
            context.AddError("size", $"must be at most {MaximumSize} bytes (32 GiB), got {options.Size}.");
        }

        if (options.Path is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(options.Path))
        {
            context.AddError("path", "must be a file path (for example \"/dev/shm/looking-glass\") or left out for an anonymous memfd.");
            return;
        }

        // Nothing is created here: validation only looks at the folder and at a file already there.
        if (SharedMemoryPathCheck.Check(context.ResolvePath(options.Path), sizeProblem is null ? options.Size : null) is string pathProblem)
        {
            context.AddError("path", pathProblem);
        }
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, IvshmemOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        SharedMemoryFile memory = options.Path is null
            ? SharedMemoryFile.CreateAnonymous("ivshmem-" + context.Id, options.Size)
            : SharedMemoryFile.OpenOrCreate(Path.GetFullPath(options.Path, context.BaseDirectory), options.Size);
        TimeProvider time = context.Services.GetService(typeof(TimeProvider)) as TimeProvider ?? TimeProvider.System;
        try
        {
            return new IvshmemDevice(
                context.Id,
                memory,
                options.Capture ? shared => new KvmfrCaptureSource(context.Id, shared, context.LoggerFactory, time) : null);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }
}
