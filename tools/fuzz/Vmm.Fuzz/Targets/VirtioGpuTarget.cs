using System.Buffers.Binary;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Files;
using Vmm.Contracts.Virtio;
using Vmm.Fuzz.Harness;
using Vmm.Plugins.CrossDomain;
using Vmm.Plugins.VirtioGpu;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// The virtio-gpu control and cursor queues (2D, blob, context and cursor commands alike) through the plugin's
/// public factory with blob resources and a host-visible window, the in-process transport and driver, with the
/// cross-domain context type (capset 5) loaded as a VM would load its plugin: SUBMIT_3D streams reach the
/// cross-domain decoder and INIT, SEND, WRITE, POLL and the futex commands run against stand-in X11 and Wayland
/// servers (Unix sockets in a temporary directory that read and drop everything) and an export table that holds one
/// 4 KiB file (fs_id 1, handle 1) for FUTEX_NEW. Expected: error responses, a failed device on a typed protocol error,
/// fenced ring commands parked until their context signals them (or the next reset). A finding: any other exception
/// logged or thrown, or a hang.
/// </summary>
public sealed class VirtioGpuTarget : RequestStreamTarget
{
    /// <summary>The export FUTEX_NEW may name (fs_id, handle).</summary>
    public const ulong FutexFileSystemId = 1;

    /// <inheritdoc cref="FutexFileSystemId"/>
    public const ulong FutexHandle = 1;

    private readonly string _directory = Directory.CreateTempSubdirectory("vmm-fuzz-gpu-").FullName;
    private readonly DiscardingUnixServer _x11;
    private readonly DiscardingUnixServer _wayland;
    private readonly string _futexFile;
    private ServiceProvider? _services;

    /// <summary>Starts the stand-in display servers and makes the futex file.</summary>
    public VirtioGpuTarget()
    {
        _x11 = new DiscardingUnixServer(Path.Combine(_directory, "X0"));
        _wayland = new DiscardingUnixServer(Path.Combine(_directory, "wayland-0"));
        _futexFile = Path.Combine(_directory, "futex");
        File.WriteAllBytes(_futexFile, new byte[4096]);
    }

    /// <inheritdoc/>
    public override string Name => "virtio-gpu";

    /// <inheritdoc/>
    protected override DeviceRig CreateRig() => new(
        log =>
        {
            _services?.Dispose();
            var services = new ServiceCollection();
            services.AddSingleton<ILoggerFactory>(log);
            new CrossDomainPlugin().ConfigureServices(services);
            services.AddSingleton<IFileExportTable>(new OneFileExportTable(_futexFile));
            _services = services.BuildServiceProvider();

            // The cross-domain device only chooses the sockets; it lives as long as the service provider.
            IDeviceFactory crossDomain = _services.GetServices<IDeviceFactory>().Single(f => f.DeviceType == "cross-domain");
            crossDomain.Create(
                new DeviceCreateContext("xd0", log, null, _services, _directory),
                new CrossDomainOptions { X11Display = _x11.Path, WaylandDisplay = _wayland.Path });

            IDeviceFactory factory = new VirtioGpuDeviceFactory();
            var context = new DeviceCreateContext("gpu0", log, null, _services, Path.GetTempPath());
            var options = new VirtioGpuOptions
            {
                ResourceBlob = true,
                HostVisibleWindowSize = 16UL << 20,
                MaxResourceBytes = 16L << 20,
                Scanouts = [new VirtioGpuModeOptions { Width = 64, Height = 48 }, new VirtioGpuModeOptions { Width = 32, Height = 32 }],
            };
            return (IVirtioDevice)factory.Create(context, options);
        },
        VirtioDeviceType.Gpu);

    /// <summary>A control command fenced on a context ring (FENCE | INFO_RING_IDX) is answered when the context signals it.</summary>
    protected override bool MayPark(int queue, ReadOnlySpan<byte> request)
        => queue == 0 && request.Length >= 24 && (BinaryPrimitives.ReadUInt32LittleEndian(request[4..]) & 3) == 3;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _services?.Dispose();
            _x11.Dispose();
            _wayland.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>What virtio-fs would hold after the guest exported a /dev/shm file: one file, one (fs_id, handle).</summary>
    private sealed class OneFileExportTable(string path) : IFileExportTable
    {
        public SafeFileHandle? OpenExport(ulong fileSystemId, ulong handle)
            => fileSystemId == FutexFileSystemId && handle == FutexHandle ? File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite) : null;
    }
}
