using System.Globalization;

namespace Vmm.Soak;

/// <summary>
/// The VM every cycle starts: one device of every built-in type (virtio-rng, virtio-input keyboard and tablet,
/// virtio-gpu with a host-visible window and the cross-domain context type, virtio-fs with a DAX window,
/// virtio-vsock, IVSHMEM), the display plugin's sources and sinks (VNC on a free port, a KVMFR export, a test
/// pattern) and a control socket; the kernel is the ring-3 payload the KVM platform runs natively here.
/// </summary>
internal static class SoakConfig
{
    private static readonly string s_shm = string.Create(CultureInfo.InvariantCulture, $"/dev/shm/vmm-soak-{Environment.ProcessId}");

    /// <summary>
    /// The files the IVSHMEM devices create and, as QEMU's ivshmem does, leave for other processes: the runner
    /// removes them at its end.
    /// </summary>
    public static IReadOnlyList<string> SharedMemoryFiles { get; } = [s_shm + "-ivshmem", s_shm + "-kvmfr"];

    /// <summary>Writes the config into <paramref name="folder"/> and returns its path.</summary>
    public static string Write(string folder, string kernel)
    {
        string share = Directory.CreateDirectory(Path.Combine(folder, "share")).FullName;
        File.WriteAllText(Path.Combine(share, "hello.txt"), "soak\n");
        string json = $$"""
            {
              "machine": { "kernel": {{Quote(kernel)}}, "memory": "64M", "vcpus": 1 },
              "platform": "kvm",
              "control": { "socket": {{Quote(Path.Combine(folder, "control.sock"))}} },
              "devices": [
                { "id": "rng0", "plugin": "virtio-rng", "type": "virtio-rng", "options": { "source": "os" } },
                { "id": "kbd0", "plugin": "virtio-input", "type": "virtio-input", "options": { "kind": "keyboard" } },
                { "id": "tablet0", "plugin": "virtio-input", "type": "virtio-input", "options": { "kind": "tablet" } },
                { "id": "gpu0", "plugin": "virtio-gpu", "type": "virtio-gpu", "options": { "scanouts": [ { "width": 640, "height": 480 } ], "hostVisibleWindowSize": 16777216 } },
                { "id": "xdomain0", "plugin": "cross-domain", "type": "cross-domain", "options": { "x11Display": ":99", "waylandDisplay": "" } },
                { "id": "fs0", "plugin": "virtio-fs", "type": "virtio-fs", "options": { "sharedDir": {{Quote(share)}}, "tag": "share", "dax": { "windowSize": 16777216 } } },
                { "id": "vsock0", "plugin": "virtio-vsock", "type": "virtio-vsock", "options": { "guestCid": 3, "uds": {{Quote(Path.Combine(folder, "vsock"))}} } },
                { "id": "lg0", "plugin": "ivshmem", "type": "ivshmem", "options": { "path": {{Quote(SharedMemoryFiles[0])}}, "size": 2097152 } },
                { "id": "vnc0", "plugin": "display", "type": "display-vnc", "options": { "listen": "127.0.0.1", "port": 0 } },
                { "id": "lgexport0", "plugin": "ivshmem", "type": "kvmfr-export", "options": { "path": {{Quote(SharedMemoryFiles[1])}}, "size": 4194304 } },
                { "id": "pattern0", "plugin": "display", "type": "display-test-pattern", "options": { "width": 640, "height": 480, "pattern": "bars" } }
              ],
              "display": { "source": "gpu0", "sinks": [ "vnc0", "lgexport0" ] }
            }
            """;
        string path = Path.Combine(folder, "soak.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value);
}
