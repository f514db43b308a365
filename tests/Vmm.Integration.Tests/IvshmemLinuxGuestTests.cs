using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Pci;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Plugins.Ivshmem.Device;
using Vmm.Qemu;

namespace Vmm.Integration.Tests;

/// <summary>
/// Debian's kernel under QEMU 10 (TCG) with two <c>ivshmem</c> devices, which the qemu platform turns into QEMU's own
/// <c>ivshmem-plain</c>: one on a /dev/shm file (QEMU maps the path), one on an anonymous memfd (QEMU maps
/// <c>/proc/PID/fd/FD</c>). In one boot the guest finds both in sysfs, reads what the host wrote into each, and
/// writes into BAR2 with busybox <c>devmem</c>; the host reads those bytes from the same memory.
/// </summary>
public sealed partial class IvshmemLinuxGuestTests
{
    private const long FileSize = 4L << 20;
    private const long MemfdSize = 1L << 20;
    private const uint FileMagic = 0x1111_F11E;
    private const uint MemfdMagic = 0x2222_3FD0;

    // For each 1af4:1110 function: identity, BAR2 size, the host's word at 0; then the complement at 8 and a marker
    // in BAR2's last word (the whole size is mapped).
    private const string GuestScript =
        "for d in /sys/bus/pci/devices/*; do " +
        "[ \"$(cat $d/vendor):$(cat $d/device)\" = 0x1af4:0x1110 ] || continue; " +
        "base=$(sed -n 3p $d/resource | cut -d' ' -f1); size=$(stat -c %s $d/resource2); host=$(devmem $base 32); " +
        "echo IVSHMEM:$(cat $d/class):$(cat $d/revision):$(cat $d/subsystem_vendor):$(cat $d/subsystem_device):$size:$host; " +
        "devmem $((base + 8)) 32 $(( ~host & 0xffffffff )); devmem $((base + size - 4)) 32 0x5a5a5a5a; " +
        "done";

    [Fact]
    public async Task Linux_guest_writes_ivshmem_bar2_and_the_host_reads_it_from_the_file_and_the_memfd()
    {
        (QemuBinary qemu, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();
        if (!Directory.Exists("/dev/shm"))
        {
            Assert.Skip("/dev/shm does not exist on this host.");
        }

        string work = Directory.CreateDirectory(Path.Combine("/dev/shm", "vmm-it-ivshmem-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            string path = Path.Combine(work, "looking-glass");
            using (FileStream created = new(path, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                created.SetLength(FileSize);
                created.Write(Word(FileMagic));
            }

            var memfd = new MemfdCapture(MemfdMagic);
            string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(GuestScript));
            var machine = new MachineSpec(256UL << 20, 1, kernel, initrd, $"console=ttyS0 loglevel=4 panic=-1 vmm.cmd={command}");
            var spec = new VmSpec(
                machine,
                PlatformKind.Qemu,
                [
                    new DeviceSpec("lg0", "ivshmem", IvshmemDeviceFactory.Type, new IvshmemOptions { Path = path, Size = FileSize }, new IvshmemDeviceFactory(), "$.devices[0]"),
                    new DeviceSpec("anon0", "ivshmem", IvshmemDeviceFactory.Type, new IvshmemOptions { Size = MemfdSize }, memfd, "$.devices[1]"),
                ],
                null,
                null,
                work);

            GuestRun run = await TestVm.RunUnderQemuAsync(spec, qemu.Version, TimeSpan.FromSeconds(120));

            Assert.False(run.TimedOut, "The guest did not power off within 120 s.");
            Assert.Equal(VmRunOutcome.Stopped, run.Result.Outcome);
            Assert.Contains("VMM-GUEST: END rc=0", run.Output, StringComparison.Ordinal);
            string[] found = [.. IvshmemLine().Matches(run.Output).Select(m => m.Value)];
            string[] expected = [$"IVSHMEM:0x050000:0x01:0x1af4:0x1100:{FileSize}:0x{FileMagic:X8}", $"IVSHMEM:0x050000:0x01:0x1af4:0x1100:{MemfdSize}:0x{MemfdMagic:X8}"];
            Assert.Equal(expected.Order(StringComparer.Ordinal), found.Order(StringComparer.Ordinal));

            byte[] file = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
            Assert.Equal(FileSize, file.Length);
            Assert.Equal(~FileMagic, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8)));
            Assert.Equal(0x5A5A_5A5Au, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan((int)FileSize - 4)));

            using SafeFileHandle anonymous = memfd.Reopened!;
            Assert.Equal(~MemfdMagic, ReadWord(anonymous, 8));
            Assert.Equal(0x5A5A_5A5Au, ReadWord(anonymous, MemfdSize - 4));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static byte[] Word(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static uint ReadWord(SafeFileHandle file, long offset)
    {
        byte[] bytes = new byte[4];
        RandomAccess.Read(file, bytes, offset);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    [GeneratedRegex(@"IVSHMEM:[^\r\n]+")]
    private static partial Regex IvshmemLine();

    /// <summary>
    /// The real factory, plus a second descriptor of the memfd it made (opened through /proc, so it outlives the
    /// device) with <paramref name="magic"/> written at offset 0 before the guest starts.
    /// </summary>
    private sealed class MemfdCapture(uint magic) : IDeviceFactory
    {
        private readonly IDeviceFactory _inner = new IvshmemDeviceFactory();

        public SafeFileHandle? Reopened { get; private set; }

        public string DeviceType => _inner.DeviceType;

        public string Description => _inner.Description;

        public Type OptionsType => _inner.OptionsType;

        public void Validate(object options, DeviceOptionsValidationContext context) => _inner.Validate(options, context);

        public IDevice Create(DeviceCreateContext context, object options)
        {
            IDevice device = _inner.Create(context, options);
            SafeFileHandle memory = Assert.Single(((IPciDevice)device).Bars, b => b.Index == 2).BackingFile!;
            Reopened = File.OpenHandle($"/proc/self/fd/{memory.DangerousGetHandle()}", FileMode.Open, FileAccess.ReadWrite);
            RandomAccess.Write(Reopened, Word(magic), 0);
            return device;
        }
    }
}
