using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.VhostUser;

namespace Vmm.Qemu;

/// <summary>
/// The <c>qemu</c> platform: QEMU (10 or newer) runs the guest on q35 with shared memfd RAM, and every device of
/// the config is served to it over vhost-user by a <see cref="VhostUserServer"/> in this process. The guest's
/// serial console goes to <see cref="QemuPlatformOptions.SerialOutput"/>. The run ends when the guest powers off
/// (QEMU runs with <c>-no-reboot</c>) or on cancellation, which kills QEMU.
/// </summary>
public sealed class QemuPlatform : IVmPlatform
{
    private readonly QemuPlatformOptions _options;

    /// <summary>Creates the platform.</summary>
    public QemuPlatform(QemuPlatformOptions? options = null) => _options = options ?? new QemuPlatformOptions();

    /// <inheritdoc/>
    public string Name => "qemu";

    /// <inheritdoc/>
    public PlatformKind Kind => PlatformKind.Qemu;

    /// <inheritdoc/>
    public bool IsAvailable([NotNullWhen(false)] out string? reason) => QemuBinary.TryLocate(_options.QemuPath, out _, out reason);

    /// <summary>The accelerator <see cref="QemuPlatformOptions.Accelerator"/> resolves to on this host.</summary>
    public QemuAccelerator ResolveAccelerator() => _options.Accelerator switch
    {
        QemuAccelerator.Auto => _options.RunsGuestKernelsNatively?.Invoke() == true ? QemuAccelerator.Kvm : QemuAccelerator.Tcg,
        QemuAccelerator accelerator => accelerator,
    };

    /// <inheritdoc/>
    public async Task<VmRunResult> RunAsync(VmSpec spec, VmRunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(context);
        ILogger logger = context.LoggerFactory.CreateLogger<QemuPlatform>();
        if (!QemuBinary.TryLocate(_options.QemuPath, out QemuBinary? qemu, out string? reason))
        {
            return new VmRunResult(VmRunOutcome.VmmFailed, reason);
        }

        string? kernel = spec.Machine.KernelPath ?? _options.DefaultKernelPath;
        string? initrd = spec.Machine.KernelPath is null ? spec.Machine.InitrdPath ?? _options.DefaultInitrdPath : spec.Machine.InitrdPath;
        if (kernel is null)
        {
            return new VmRunResult(VmRunOutcome.VmmFailed, "machine.kernel is not set and the qemu platform has no default kernel (build one with tools/guest-image/build.sh).");
        }

        string socketDirectory = Directory.CreateTempSubdirectory("vmm-qemu-").FullName;
        var devices = new List<IDevice>();
        var servers = new List<(VhostUserServer Server, Task Running)>();
        using var stopServers = new CancellationTokenSource();
        try
        {
            var frontends = new List<QemuVhostUserDevice>();
            string? problem = CreateDevices(spec, context, socketDirectory, devices, frontends);
            if (problem is not null)
            {
                return new VmRunResult(VmRunOutcome.VmmFailed, problem);
            }

            for (int i = 0; i < frontends.Count; i++)
            {
                var server = new VhostUserServer(frontends[i].SocketPath, (IVirtioDevice)devices[i], context.LoggerFactory);
                servers.Add((server, server.RunAsync(stopServers.Token)));
                QemuPlatformLog.ServingDevice(logger, frontends[i].Id, frontends[i].Driver, frontends[i].SocketPath);
            }

            var launch = new QemuLaunchSpec(spec.Machine.MemoryBytes, spec.Machine.Vcpus, ResolveAccelerator(), kernel, initrd, spec.Machine.CommandLine, frontends);
            return await RunQemuAsync(qemu, launch, logger, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stopServers.CancelAsync().ConfigureAwait(false);
            foreach ((VhostUserServer server, Task running) in servers)
            {
                try
                {
                    await running.ConfigureAwait(false);
                }
                finally
                {
                    await server.DisposeAsync().ConfigureAwait(false);
                }
            }

            foreach (IDevice device in devices)
            {
                device.Dispose();
            }

            Directory.Delete(socketDirectory, recursive: true);
        }
    }

    /// <summary>Creates every device and checks it has a QEMU front-end; returns a message for the first that has none.</summary>
    private static string? CreateDevices(VmSpec spec, VmRunContext context, string socketDirectory, List<IDevice> devices, List<QemuVhostUserDevice> frontends)
    {
        using ServiceProvider services = new ServiceCollection().AddSingleton(TimeProvider.System).BuildServiceProvider();
        foreach (DeviceSpec deviceSpec in spec.Devices)
        {
            var createContext = new DeviceCreateContext(deviceSpec.Id, context.LoggerFactory, null, services, spec.BaseDirectory);
            IDevice device = deviceSpec.Factory.Create(createContext, deviceSpec.Options);
            devices.Add(device);
            if (device is not IVirtioDevice virtio)
            {
                return $"{deviceSpec.ConfigPath}: device type '{deviceSpec.Type}' is not a virtio device; the qemu platform serves virtio devices over vhost-user only.";
            }

            if (!QemuFrontendDevices.TryGetDriver(virtio.DeviceType, out string? driver))
            {
                return $"{deviceSpec.ConfigPath}: device type '{deviceSpec.Type}' (virtio {virtio.DeviceType}) has no QEMU vhost-user front-end; the qemu platform supports virtio-rng, virtio-fs, virtio-gpu and virtio-input.";
            }

            var extra = new List<string>();
            if (virtio.DeviceType == VirtioDeviceType.FileSystem)
            {
                extra.Add("tag=" + ReadFileSystemTag(virtio));
            }

            frontends.Add(new QemuVhostUserDevice(deviceSpec.Id, driver, Path.Combine(socketDirectory, $"{devices.Count - 1}.sock"), extra));
        }

        return null;
    }

    /// <summary>vhost-user-fs-pci wants the tag on its command line; it is the first 36 bytes of the device's config.</summary>
    private static string ReadFileSystemTag(IVirtioDevice device)
    {
        Span<byte> tag = stackalloc byte[36];
        device.ReadConfig(0, tag[..Math.Min(36, device.ConfigSize)]);
        int end = tag.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end < 0 ? tag : tag[..end]);
    }

    private async Task<VmRunResult> RunQemuAsync(QemuBinary qemu, QemuLaunchSpec launch, ILogger logger, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> arguments = QemuCommandLine.Build(launch);
        var start = new ProcessStartInfo(qemu.Path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        QemuPlatformLog.Starting(logger, qemu.Path, qemu.Version, launch.Accelerator, string.Join(' ', arguments));
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{qemu.Path} did not start.");
        var stderrTail = new Queue<string>();
        Task serial = PumpAsync(process.StandardOutput, line => _options.SerialOutput?.WriteLine(line));
        Task errors = PumpAsync(process.StandardError, line =>
        {
            QemuPlatformLog.Stderr(logger, line);
            lock (stderrTail)
            {
                stderrTail.Enqueue(line);
                if (stderrTail.Count > 20)
                {
                    stderrTail.Dequeue();
                }
            }
        });

        bool cancelled = false;
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            cancelled = true;
            QemuPlatformLog.Stopping(logger);
            process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(_options.StopTimeout);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }

        await Task.WhenAll(serial, errors).ConfigureAwait(false);
        QemuPlatformLog.Exited(logger, process.ExitCode);
        if (cancelled || process.ExitCode == 0)
        {
            return VmRunResult.Stopped;
        }

        string tail;
        lock (stderrTail)
        {
            tail = string.Join(Environment.NewLine, stderrTail);
        }

        return new VmRunResult(VmRunOutcome.VmmFailed, $"QEMU exited with code {process.ExitCode}: {tail}");
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            onLine(line);
        }
    }
}
