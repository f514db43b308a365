using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Core.Config;
using Vmm.Core.Memory;
using Vmm.Kvm.Platform;
using Xunit;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>A device's shared-memory region is a KVM memory slot that follows BAR2 wherever the guest puts it.</summary>
public sealed class SharedMemoryBarTests
{
    private const ulong WindowSize = 2ul << 20;
    private const ulong FirstAddress = 0xD800_0000;
    private const ulong SecondAddress = 0xDA00_0000;

    [Fact]
    public void GuestReadsTheWindowAtTheBarsNewAddressWithoutAnExit()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();

        // mov rax, SecondAddress; mov al, [rax]; mov dx, 0x501; out dx, al; jmp $
        byte[] code = new byte[19];
        code[0] = 0x48;
        code[1] = 0xB8;
        BinaryPrimitives.WriteUInt64LittleEndian(code.AsSpan(2), SecondAddress);
        code[10] = 0x8A;
        code[11] = 0x00;
        code[12] = 0x66;
        code[13] = 0xBA;
        code[14] = 0x01;
        code[15] = 0x05;
        code[16] = 0xEE;
        code[17] = 0xEB;
        code[18] = 0xFE;
        string payload = PlatformTestSpecs.Ring3Payload(code);
        DeviceSpec device = new("shm0", "test", "shm-test", new object(), new WindowDeviceFactory(), "$.devices[0]");
        VmSpec spec = PlatformTestSpecs.Spec(payload) with { Devices = [device] };
        using KvmMachine machine = KvmMachine.Create(system, spec, NullLoggerFactory.Instance, new KvmPlatformOptions());
        string backing = Path.Combine(Directory.CreateTempSubdirectory("vmm-kvm-shm-").FullName, "window");
        using SafeFileHandle file = File.OpenHandle(backing, FileMode.Create, FileAccess.ReadWrite);
        RandomAccess.SetLength(file, (long)WindowSize);
        RandomAccess.Write(file, new byte[] { 0x5A }, 0);
        machine.Transports[0].SharedMemory[0].MapFile(0, file, 0, WindowSize, writable: true);

        // What firmware and then the guest's driver would do: place BAR2, enable decoding, then move it.
        ProgramBar2(machine, FirstAddress);
        ProgramBar2(machine, SecondAddress);
        Assert.Equal(SecondAddress, machine.Pci.GetDecodedBarAddress(1, 2));

        machine.Start(null);
        KvmVmExit? exit = machine.Vm.WaitForExit(TimeSpan.FromSeconds(30));

        Assert.True(exit is { Kind: KvmVmExitKind.GuestExit }, exit?.ToString());
        Assert.Equal(0x5Aul, exit!.Code);
        Assert.Equal(0, machine.Vm.MmioBus.UnclaimedAccessCount);
    }

    private static void ProgramBar2(KvmMachine machine, ulong address)
    {
        Span<byte> value = stackalloc byte[4];
        machine.Pci.WriteConfig(0, 1, 0, 0x04, [0, 0]);
        BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)address | 0xC); // 64-bit prefetchable memory
        machine.Pci.WriteConfig(0, 1, 0, 0x18, value);
        BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)(address >> 32));
        machine.Pci.WriteConfig(0, 1, 0, 0x1C, value);
        machine.Pci.WriteConfig(0, 1, 0, 0x04, [0x2, 0]);
    }

    private sealed class WindowDeviceFactory : IDeviceFactory
    {
        public string DeviceType => "shm-test";

        public string Description => "A virtio device with one 2 MiB shared-memory region.";

        public Type OptionsType => typeof(object);

        public void Validate(object options, DeviceOptionsValidationContext context)
        {
        }

        public IDevice Create(DeviceCreateContext context, object options) => new WindowDevice();
    }

    private sealed class WindowDevice : IVirtioDevice
    {
        public string Id => "shm0";

        public VirtioDeviceType DeviceType => VirtioDeviceType.FileSystem;

        public ulong DeviceFeatures => 0;

        public IReadOnlyList<ushort> QueueMaxSizes => [8];

        public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => [new SharedMemoryRegionRequest(0, WindowSize)];

        public int ConfigSize => 0;

        public void ReadConfig(int offset, Span<byte> data) => data.Clear();

        public void WriteConfig(int offset, ReadOnlySpan<byte> data)
        {
        }

        public void Activate(IVirtioDeviceContext context)
        {
        }

        public void ProcessQueue(int queueIndex)
        {
        }

        public void Reset()
        {
        }

        public void Dispose()
        {
        }
    }
}
