using System.Globalization;

namespace Vmm.Qemu;

/// <summary>Builds QEMU's arguments: q35, shared memfd RAM (vhost-user needs it), serial on stdio, no display.</summary>
public static class QemuCommandLine
{
    // Under TCG on a loaded host the emulated timer can miss Linux's early IO-APIC timer check, which then panics
    // ("IO-APIC + timer doesn't work!"); the kernel's own escape hatch skips the check.
    private const string NoTimerCheck = "no_timer_check";

    /// <summary>The arguments for <paramref name="spec"/>, one list element per argv entry (no shell quoting).</summary>
    public static IReadOnlyList<string> Build(QemuLaunchSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Accelerator == QemuAccelerator.Auto)
        {
            throw new ArgumentException("Decide between KVM and TCG before building the command line.", nameof(spec));
        }

        if (spec.MemoryBytes == 0 || spec.MemoryBytes % (1UL << 20) != 0)
        {
            throw new ArgumentException($"Guest memory {spec.MemoryBytes} is not a whole number of MiB.", nameof(spec));
        }

        string megabytes = (spec.MemoryBytes >> 20).ToString(CultureInfo.InvariantCulture) + "M";
        var args = new List<string>
        {
            "-M", "q35",
            "-accel", spec.Accelerator == QemuAccelerator.Kvm ? "kvm" : "tcg",
            "-cpu", spec.Accelerator == QemuAccelerator.Kvm ? "host" : "max",
            "-m", megabytes,
            "-smp", spec.Vcpus.ToString(CultureInfo.InvariantCulture),
            "-object", $"memory-backend-memfd,id=mem,size={megabytes},share=on",
            "-numa", "node,memdev=mem",
            "-nodefaults",
            "-no-user-config",
            "-display", "none",
            "-vga", "none",
            "-serial", "stdio",
            "-monitor", "none",
            "-no-reboot",
            "-kernel", spec.KernelPath,
        };
        if (spec.QmpSocketPath is not null)
        {
            args.Add("-qmp");
            args.Add($"unix:{Escape(spec.QmpSocketPath)},server=on,wait=off");
        }

        if (spec.InitrdPath is not null)
        {
            args.Add("-initrd");
            args.Add(spec.InitrdPath);
        }

        args.Add("-append");
        args.Add(spec.Accelerator == QemuAccelerator.Kvm || spec.CommandLine.Contains(NoTimerCheck, StringComparison.Ordinal)
            ? spec.CommandLine
            : $"{spec.CommandLine} {NoTimerCheck}");
        foreach (QemuVhostUserDevice device in spec.Devices)
        {
            string chardev = "vu-" + device.Id;
            args.Add("-chardev");
            args.Add($"socket,id={Escape(chardev)},path={Escape(device.SocketPath)}");
            args.Add("-device");
            string properties = string.Concat(device.ExtraProperties.Select(p => "," + p));
            args.Add($"{device.Driver},chardev={Escape(chardev)},id={Escape(device.Id)}{properties}");
        }

        for (int i = 0; i < spec.IvshmemDevices.Count; i++)
        {
            QemuIvshmemDevice device = spec.IvshmemDevices[i];
            string backend = "ivshmem" + i.ToString(CultureInfo.InvariantCulture);
            args.Add("-object");
            args.Add($"memory-backend-file,id={backend},share=on,mem-path={Escape(device.MemoryPath)},size={device.Size.ToString(CultureInfo.InvariantCulture)}");
            args.Add("-device");
            args.Add($"ivshmem-plain,memdev={backend},id={Escape(device.Id)}");
        }

        return args;
    }

    /// <summary>QEMU option values escape a comma by doubling it.</summary>
    private static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
