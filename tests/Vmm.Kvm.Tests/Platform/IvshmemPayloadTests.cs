using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Pci;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Pci;
using Vmm.Kvm.Platform;
using Vmm.Plugins.Ivshmem.Device;
using Vmm.Testing.Diagnostics;
using Xunit;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>
/// IVSHMEM on the kvm platform with a real vCPU: the ring-3 guest tools/guest-payloads/elf/ivshmem-ring3.c finds the
/// device by PCI configuration, moves BAR2 and writes a pattern and a 64x64 BGRA frame into it; the host sees them
/// in the /dev/shm file behind the BAR, and the guest sees what the host wrote there first.
/// </summary>
public sealed class IvshmemPayloadTests
{
    private const long Size = 32L << 20;
    private const ulong Magic = 0x1A55_4D45_4D21_F00D;
    private const int FrameOffset = 0x10000;
    private const int FrameSize = 64;

    [Fact]
    public void BarTwosMemorySlotFollowsTheBarAndLeavesItsOldAddress()
    {
        const ulong firstAddress = 0xD800_0000;
        const ulong secondAddress = 0xDC00_0000;
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();

        // mov rax, first; mov bl, [rax] (unclaimed now: an MMIO exit); mov rax, second; mov al, [rax]; out 0x501, al; jmp $
        byte[] code = new byte[31];
        code[0] = 0x48;
        code[1] = 0xB8;
        BinaryPrimitives.WriteUInt64LittleEndian(code.AsSpan(2), firstAddress);
        code[10] = 0x8A;
        code[11] = 0x18;
        code[12] = 0x48;
        code[13] = 0xB8;
        BinaryPrimitives.WriteUInt64LittleEndian(code.AsSpan(14), secondAddress + 0x1234);
        code[22] = 0x8A;
        code[23] = 0x00;
        code[24] = 0x66;
        code[25] = 0xBA;
        code[26] = 0x01;
        code[27] = 0x05;
        code[28] = 0xEE;
        code[29] = 0xEB;
        code[30] = 0xFE;
        string payload = PlatformTestSpecs.Ring3Payload(code);
        var device = new DeviceSpec("lg0", "ivshmem", IvshmemDeviceFactory.Type, new IvshmemOptions { Size = 1L << 20 }, new IvshmemDeviceFactory(), "$.devices[0]");
        VmSpec spec = PlatformTestSpecs.Spec(payload) with { Devices = [device] };
        using KvmMachine machine = KvmMachine.Create(system, spec, NullLoggerFactory.Instance, new KvmPlatformOptions());
        PciDeviceAdapter adapter = Assert.Single(machine.PciDevices);
        RandomAccess.Write(adapter.Device.Bars.Single(b => b.Index == 2).BackingFile!, new byte[] { 0x5A }, 0x1234);
        int slot = Enumerable.Range(0, PciRoot.SlotCount).Single(d => machine.Pci.GetFunction(d) == adapter);

        // A hostile guest first puts BAR2 over its RAM: KVM refuses the slot, the BAR maps nothing, the VM goes on.
        ProgramBarTwo(machine, slot, 0x0200_0000);

        // What firmware and then a guest driver would do: place BAR2, enable decoding, then move it.
        ProgramBarTwo(machine, slot, firstAddress);
        ProgramBarTwo(machine, slot, secondAddress);
        Assert.Equal(secondAddress, machine.Pci.GetDecodedBarAddress(slot, 2));

        machine.Start(null);
        KvmVmExit? exit = machine.Vm.WaitForExit(TimeSpan.FromSeconds(30));

        Assert.True(exit is { Kind: KvmVmExitKind.GuestExit }, exit?.ToString());
        Assert.Equal(0x5Aul, exit!.Code);
        Assert.Equal(1, machine.Vm.MmioBus.UnclaimedAccessCount); // the old address, and only it, reached the bus
    }

    [Fact]
    public void ARingThreeGuestWritesBarTwoAndTheHostReadsItFromTheFile()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = KvmTestEnvironment.ElfPayloadPathOrSkip("ivshmem-ring3");
        if (!Directory.Exists("/dev/shm"))
        {
            Assert.Skip("/dev/shm does not exist on this host.");
        }

        string folder = Directory.CreateDirectory(Path.Combine("/dev/shm", "vmm-ivshmem-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            string path = Path.Combine(folder, "looking-glass");
            using (FileStream file = new(path, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                file.SetLength(Size);
                byte[] magic = new byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(magic, Magic);
                file.Write(magic);
            }

            var options = new IvshmemOptions { Path = path, Size = Size };
            var device = new DeviceSpec("lg0", "ivshmem", IvshmemDeviceFactory.Type, options, new IvshmemDeviceFactory(), "$.devices[0]");
            VmSpec spec = PlatformTestSpecs.Spec(payload) with { Devices = [device] };
            using ConsoleCapture console = new();
            using KvmMachine machine = KvmMachine.Create(system, spec, NullLoggerFactory.Instance, new KvmPlatformOptions { ConsoleOutput = console });
            PciDeviceAdapter adapter = Assert.Single(machine.PciDevices);
            int slot = Enumerable.Range(0, PciRoot.SlotCount).Single(d => machine.Pci.GetFunction(d) == adapter);

            Stopwatch stopwatch = Stopwatch.StartNew();
            machine.Start(null);
            KvmVmExit? exit = machine.Vm.WaitForExit(TimeSpan.FromSeconds(60));
            TimeSpan elapsed = stopwatch.Elapsed;
            long ioExits = machine.Vm.Vcpus.Sum(v => v.IoExitCount);
            DeviceStatus status = Assert.Single(machine.GetStatus().Devices);
            ulong? barTwo = machine.Pci.GetDecodedBarAddress(slot, 2);
            string text = console.Text;

            Assert.True(exit is { Kind: KvmVmExitKind.GuestExit, Code: 0 }, $"{exit}; console: {text}");
            Assert.Contains("ivshmem: class/revision 0x5000001 subsystem 0x11001af4 interrupt pin 0\n", text, StringComparison.Ordinal);
            Assert.Contains($"ivshmem: platform placed BAR2 at 0x{0x10_0000_0000UL:x}\n", text, StringComparison.Ordinal);
            Assert.Contains($"ivshmem: BAR0 0x100 bytes flags 0x0, BAR2 0x{Size:x} bytes flags 0xc\n", text, StringComparison.Ordinal);
            Assert.Contains("ivshmem: IVPosition 0\n", text, StringComparison.Ordinal);
            Assert.Contains($"ivshmem: host wrote 0x{Magic:x}\n", text, StringComparison.Ordinal); // the host's write, seen by the guest
            Assert.Equal(("lg0", "ivshmem", "active"), (status.Id, status.Type, status.State));
            Assert.Equal(0xD800_0000UL, barTwo);
            Assert.InRange(ioExits, 1, 1024); // console and configuration cycles only: a store into BAR2 never exits

            // What the guest wrote through BAR2 is in the file, seen through a plain read of it.
            byte[] shared = new byte[FrameOffset + (FrameSize * FrameSize * 4)];
            using (FileStream file = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                file.ReadExactly(shared);
            }

            Assert.Equal(~Magic, BinaryPrimitives.ReadUInt64LittleEndian(shared.AsSpan(0x08)));
            Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(shared.AsSpan(0x18)));
            Assert.Equal("IVSHMEM-FRAME-64", Encoding.ASCII.GetString(shared, 0x20, 16));
            Assert.Equal("BGRA", Encoding.ASCII.GetString(shared, 0x3C, 4));
            for (uint i = 0; i < 1024; i++)
            {
                Assert.Equal(0xC0DE_0000u | i, BinaryPrimitives.ReadUInt32LittleEndian(shared.AsSpan(0x1000 + (int)(i * 4))));
            }

            for (int y = 0; y < FrameSize; y++)
            {
                for (int x = 0; x < FrameSize; x++)
                {
                    int pixel = FrameOffset + (((y * FrameSize) + x) * 4);
                    Assert.Equal(new byte[] { (byte)(4 * x), (byte)(4 * y), (byte)(2 * (x + y)), 0xFF }, shared[pixel..(pixel + 4)]);
                }
            }

            ulong cycles = BinaryPrimitives.ReadUInt64LittleEndian(shared.AsSpan(0x10));
            TestContext.Current.TestOutputHelper?.WriteLine(text);
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"run {elapsed.TotalMilliseconds:F1} ms (VM start to exit), {ioExits} port-I/O and MMIO exits in all "
                + $"(PCI configuration, console, one BAR0 read; the {1024 + (FrameSize * FrameSize) + 12} stores into BAR2 took none), "
                + $"pattern + frame written in {cycles} TSC cycles");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void ProgramBarTwo(KvmMachine machine, int slot, ulong address)
    {
        Span<byte> value = stackalloc byte[4];
        machine.Pci.WriteConfig(0, slot, 0, 0x04, [0, 0]);
        BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)address | 0xC); // 64-bit prefetchable memory
        machine.Pci.WriteConfig(0, slot, 0, 0x18, value);
        BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)(address >> 32));
        machine.Pci.WriteConfig(0, slot, 0, 0x1C, value);
        machine.Pci.WriteConfig(0, slot, 0, 0x04, [0x2, 0]);
    }
}
