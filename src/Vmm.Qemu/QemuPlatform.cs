using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Pci;
using Vmm.Contracts.Virtio;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Qemu.GuestImages;
using Vmm.Qemu.Qmp;
using Vmm.VhostUser;

namespace Vmm.Qemu;

/// <summary>
/// The <c>qemu</c> platform: QEMU (10 or newer) runs the guest on q35 with shared memfd RAM, and every device of
/// the config is served to it over vhost-user by a <see cref="VhostUserServer"/> in this process. The guest's
/// serial console goes to <see cref="QemuPlatformOptions.SerialOutput"/>. An IVSHMEM device becomes QEMU's own
/// <c>ivshmem-plain</c> over a <c>memory-backend-file,share=on</c> on the device's file; no other plain PCI device
/// can reach a QEMU guest. The run ends when the guest powers off
/// (QEMU runs with <c>-no-reboot</c>), on the control socket's <c>stop</c> (ACPI power button, then QMP <c>quit</c>)
/// or on cancellation (QMP <c>quit</c>); QEMU is killed only when it does not exit in time.
/// </summary>
public sealed class QemuPlatform : IVmPlatform
{
    private const ushort IvshmemVendorId = 0x1AF4;
    private const ushort IvshmemDeviceId = 0x1110;
    private const int IvshmemSharedMemoryBar = 2;
    private static readonly TimeSpan s_selfExitGrace = TimeSpan.FromMilliseconds(500);
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

        (string? kernel, string? initrd, string? imageProblem) = await ResolveKernelAsync(spec.Machine, cancellationToken).ConfigureAwait(false);
        if (kernel is null)
        {
            return new VmRunResult(VmRunOutcome.VmmFailed, imageProblem);
        }

        string socketDirectory = Directory.CreateTempSubdirectory("vmm-qemu-").FullName;
        VmDeviceSet? devices = null;
        var servers = new List<(VhostUserServer Server, Task Running)>();
        using var stopServers = new CancellationTokenSource();
        try
        {
            devices = VmDeviceSet.Create(spec, context);
            (DeviceSpec Spec, IVirtioDevice Device)[] guestDevices = [.. devices.VirtioDevices];
            var frontends = new List<QemuVhostUserDevice>();
            string? problem = CreateFrontends(guestDevices, socketDirectory, frontends);
            var ivshmem = new List<QemuIvshmemDevice>();
            (DeviceSpec Spec, IPciDevice Device)[] pciDevices = [.. devices.PciDevices];
            problem ??= CreateIvshmemDevices(pciDevices, ivshmem);
            if (problem is not null)
            {
                return new VmRunResult(VmRunOutcome.VmmFailed, problem);
            }

            for (int i = 0; i < frontends.Count; i++)
            {
                var server = new VhostUserServer(frontends[i].SocketPath, guestDevices[i].Device, context.LoggerFactory, guestDevices[i].Spec.Limits);
                servers.Add((server, server.RunAsync(stopServers.Token)));
                QemuPlatformLog.ServingDevice(logger, frontends[i].Id, frontends[i].Driver, frontends[i].SocketPath);
            }

            var vm = new QemuVm(spec.Machine, guestDevices.Select((d, i) => (d.Spec, servers[i].Server)).ToArray(), [.. pciDevices.Select(d => d.Spec)]);
            AddControlCommands(context, vm);
            var launch = new QemuLaunchSpec(spec.Machine.MemoryBytes, spec.Machine.Vcpus, ResolveAccelerator(), kernel, initrd, spec.Machine.CommandLine, frontends)
            {
                QmpSocketPath = Path.Combine(socketDirectory, "qmp.sock"),
                IvshmemDevices = ivshmem,
            };
            return await RunQemuAsync(qemu, launch, vm, logger, cancellationToken).ConfigureAwait(false);
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

            devices?.Dispose();

            Directory.Delete(socketDirectory, recursive: true);
        }
    }

    /// <summary>The config's kernel, else the options' default, else the guest-image cache (built when missing).</summary>
    private async Task<(string? Kernel, string? Initrd, string? Problem)> ResolveKernelAsync(MachineSpec machine, CancellationToken cancellationToken)
    {
        if (machine.KernelPath is not null)
        {
            return (machine.KernelPath, machine.InitrdPath, null);
        }

        if (_options.DefaultKernelPath is not null)
        {
            return (_options.DefaultKernelPath, machine.InitrdPath ?? _options.DefaultInitrdPath, null);
        }

        if (_options.GuestImage is null)
        {
            return (null, null, "machine.kernel is not set and the qemu platform has no default kernel (build one with tools/guest-image/build.sh).");
        }

        GuestImageResult image = await _options.GuestImage.EnsureAsync(_options.Progress, cancellationToken).ConfigureAwait(false);
        return image.Paths is null
            ? (null, null, image.Problem)
            : (image.Paths.KernelPath, machine.InitrdPath ?? image.Paths.InitrdPath, null);
    }

    /// <summary><c>status</c> and <c>stop</c> for this VM; a registry reused across runs keeps the first run's commands.</summary>
    private static void AddControlCommands(VmRunContext context, QemuVm vm)
    {
        if (!context.ControlCommands.TryGet("status", out _))
        {
            context.ControlCommands.Add(new StatusCommand(vm));
        }

        if (!context.ControlCommands.TryGet("stop", out _))
        {
            context.ControlCommands.Add(new StopCommand(vm));
        }
    }

    /// <summary>
    /// Picks the QEMU vhost-user front-end of every guest device; returns a message for the first that has none.
    /// Host-side devices (display sinks) need no front-end.
    /// </summary>
    private static string? CreateFrontends((DeviceSpec Spec, IVirtioDevice Device)[] guestDevices, string socketDirectory, List<QemuVhostUserDevice> frontends)
    {
        foreach ((DeviceSpec deviceSpec, IVirtioDevice virtio) in guestDevices)
        {
            if (!QemuFrontendDevices.TryGetDriver(virtio.DeviceType, out string? driver))
            {
                return $"{deviceSpec.ConfigPath}: device type '{deviceSpec.Type}' (virtio {virtio.DeviceType}) has no QEMU vhost-user front-end; the qemu platform supports virtio-rng, virtio-fs, virtio-gpu, virtio-input and virtio-vsock.";
            }

            var extra = new List<string>();
            if (virtio.DeviceType == VirtioDeviceType.FileSystem)
            {
                extra.Add("tag=" + ReadFileSystemTag(virtio));
            }

            frontends.Add(new QemuVhostUserDevice(deviceSpec.Id, driver, Path.Combine(socketDirectory, $"{frontends.Count}.sock"), extra));
        }

        return null;
    }

    /// <summary>
    /// Turns every IVSHMEM device (1af4:1110 with a file-backed BAR2) into QEMU's <c>ivshmem-plain</c> on the same
    /// file; returns a message for the first plain PCI device QEMU cannot be given.
    /// </summary>
    private static string? CreateIvshmemDevices((DeviceSpec Spec, IPciDevice Device)[] pciDevices, List<QemuIvshmemDevice> ivshmem)
    {
        foreach ((DeviceSpec deviceSpec, IPciDevice device) in pciDevices)
        {
            PciBar? memory = device.Bars.FirstOrDefault(b => b.Index == IvshmemSharedMemoryBar && b.BackingFile is not null);
            if (device.Identity is not { VendorId: IvshmemVendorId, DeviceId: IvshmemDeviceId } || memory?.BackingFile is null || memory.BackingFileOffset != 0)
            {
                return $"{deviceSpec.ConfigPath}: device type '{deviceSpec.Type}' is a PCI device ({device.Identity.VendorId:x4}:{device.Identity.DeviceId:x4}) the qemu platform cannot give its guest; it supports plain PCI devices only as IVSHMEM (1af4:1110 with a file-backed BAR2), which QEMU emulates as ivshmem-plain. Use the kvm platform.";
            }

            ivshmem.Add(new QemuIvshmemDevice(deviceSpec.Id, MemoryPathFor(memory.BackingFile), memory.Size));
        }

        return null;
    }

    /// <summary>
    /// The path QEMU opens to map <paramref name="file"/>: the file's own path when it has one, else (a memfd, or a
    /// file deleted since) this process's <c>/proc/PID/fd/FD</c> link, which opens the very same memory.
    /// </summary>
    private static string MemoryPathFor(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        string link = $"/proc/{Environment.ProcessId}/fd/{file.DangerousGetHandle()}";
        string? target = new FileInfo(link).LinkTarget;
        return target is not null && target.StartsWith('/') && !target.EndsWith(" (deleted)", StringComparison.Ordinal) && File.Exists(target)
            ? target
            : link;
    }

    /// <summary>vhost-user-fs-pci wants the tag on its command line; it is the first 36 bytes of the device's config.</summary>
    private static string ReadFileSystemTag(IVirtioDevice device)
    {
        Span<byte> tag = stackalloc byte[36];
        device.ReadConfig(0, tag[..Math.Min(36, device.ConfigSize)]);
        int end = tag.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end < 0 ? tag : tag[..end]);
    }

    private async Task<VmRunResult> RunQemuAsync(QemuBinary qemu, QemuLaunchSpec launch, QemuVm vm, ILogger logger, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> arguments = QemuCommandLine.Build(launch);
        bool inherit = _options.InheritConsole;
        var start = new ProcessStartInfo(qemu.Path)
        {
            RedirectStandardInput = !inherit,
            RedirectStandardOutput = !inherit,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        QemuPlatformLog.Starting(logger, qemu.Path, qemu.Version, launch.Accelerator, string.Join(' ', arguments));
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{qemu.Path} did not start.");
        vm.State = "running";
        var stderrTail = new Queue<string>();
        Task serial = inherit ? Task.CompletedTask : PumpAsync(process.StandardOutput, line => _options.SerialOutput?.WriteLine(line));
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
        using var stopInput = new CancellationTokenSource();
        Task input = inherit || _options.SerialInput is null
            ? Task.CompletedTask
            : CopyInputAsync(_options.SerialInput, process.StandardInput.BaseStream, stopInput.Token);

        Task exited = process.WaitForExitAsync(CancellationToken.None);
        bool stopRequested;
        using (cancellationToken.Register(vm.Cancel))
        {
            stopRequested = await Task.WhenAny(exited, vm.StopRequested).ConfigureAwait(false) != exited;
            if (stopRequested)
            {
                vm.State = "stopping";
                await StopAsync(process, exited, launch.QmpSocketPath, vm, logger).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(serial, errors).ConfigureAwait(false);
        await stopInput.CancelAsync().ConfigureAwait(false);
        await input.ConfigureAwait(false);
        vm.State = "stopped";
        QemuPlatformLog.Exited(logger, process.ExitCode);
        if (stopRequested || process.ExitCode == 0)
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

    /// <summary>
    /// Stops QEMU cleanly over QMP: for a control <c>stop</c> the ACPI power button first, then <c>quit</c>; only
    /// when QEMU does not exit in time is it killed (which could leave a terminal in raw mode).
    /// </summary>
    private async Task StopAsync(Process process, Task exited, string? qmpSocket, QemuVm vm, ILogger logger)
    {
        QemuStopKind kind = await vm.StopRequested.ConfigureAwait(false);
        QemuPlatformLog.StopRequested(logger, kind);
        if (qmpSocket is not null && kind == QemuStopKind.Powerdown && await TrySendAsync(qmpSocket, "system_powerdown", logger).ConfigureAwait(false))
        {
            await Task.WhenAny(exited, vm.Cancelled, Task.Delay(_options.PowerdownTimeout)).ConfigureAwait(false);
            if (exited.IsCompleted)
            {
                return;
            }
        }

        if (kind == QemuStopKind.Quit)
        {
            // Ctrl-C on a shared terminal reaches QEMU too, and QEMU exits on SIGINT by itself.
            await Task.WhenAny(exited, Task.Delay(s_selfExitGrace)).ConfigureAwait(false);
            if (exited.IsCompleted)
            {
                return;
            }
        }

        if (qmpSocket is not null && await TrySendAsync(qmpSocket, "quit", logger).ConfigureAwait(false))
        {
            await Task.WhenAny(exited, Task.Delay(_options.StopTimeout)).ConfigureAwait(false);
            if (exited.IsCompleted)
            {
                return;
            }
        }

        QemuPlatformLog.Killing(logger);
        process.Kill(entireProcessTree: true);
        await exited.WaitAsync(_options.StopTimeout).ConfigureAwait(false);
    }

    /// <summary>Sends one QMP command; false (and a log line) when QEMU could not be reached.</summary>
    private static async Task<bool> TrySendAsync(string qmpSocket, string command, ILogger logger)
    {
        try
        {
            await using QmpClient client = await QmpClient.ConnectAsync(qmpSocket, TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ExecuteAsync(command, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (QmpException ex)
        {
            // quit may close the connection before its reply: QEMU is on its way out, which the caller waits for.
            QemuPlatformLog.QmpFailed(logger, command, ex.Message);
            return command == "quit";
        }
        catch (OperationCanceledException)
        {
            QemuPlatformLog.QmpFailed(logger, command, "no reply within 2 s");
            return command == "quit";
        }
    }

    private static async Task CopyInputAsync(Stream source, Stream target, CancellationToken cancellationToken)
    {
        try
        {
            byte[] buffer = new byte[4096];
            while (await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) is int read and > 0)
            {
                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                await target.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            target.Close();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // QEMU exited or the run ended: the input has nowhere to go.
        }
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            onLine(line);
        }
    }
}
