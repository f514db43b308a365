using System.Buffers.Binary;
using Vmm.Core.Hosting;
using Vmm.Kvm.Boot;
using Vmm.Kvm.Platform;
using Xunit;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>
/// The register state set from the host for each entry protocol: a few guest instructions report the boot-info
/// register (RSI for the 64-bit Linux protocol, EBX for PVH) through the exit port. Ring-0 code, kept to a handful of
/// instructions for hosts that emulate ring 0.
/// </summary>
public sealed class BootEntryTests
{
    // mov eax, esi; shr eax, 8; mov dx, 0x501; out dx, al; jmp $  (64-bit mode)
    private static readonly byte[] s_reportRsi = [0x89, 0xF0, 0xC1, 0xE8, 0x08, 0x66, 0xBA, 0x01, 0x05, 0xEE, 0xEB, 0xFE];

    // mov eax, ebx; shr eax, 8; mov dx, 0x501; out dx, al; jmp $  (32-bit protected mode)
    private static readonly byte[] s_reportEbx = [0x89, 0xD8, 0xC1, 0xE8, 0x08, 0x66, 0xBA, 0x01, 0x05, 0xEE, 0xEB, 0xFE];

    [Fact]
    public async Task BzImageEntersAtOneMegabytePlus0x200InLongModeWithRsiAtTheZeroPage()
    {
        byte[] image = BzImageWithEntryCode(s_reportRsi);
        VmRunResult result = await RunAsync(image);
        Assert.Equal(VmRunOutcome.GuestFailed, result.Outcome); // exit code 0x70: the zero page's page number
        Assert.Equal($"the guest exited with code {BootLayout.ZeroPageAddress >> 8}", result.Message);
    }

    [Fact]
    public async Task ElfWithoutNotesEntersInLongModeWithRsiAtTheZeroPage()
    {
        VmRunResult result = await RunAsync(Boot.SyntheticImages.Elf(code: s_reportRsi));
        Assert.Equal($"the guest exited with code {BootLayout.ZeroPageAddress >> 8}", result.Message);
    }

    [Fact]
    public async Task PvhEntryRunsIn32BitModeWithEbxAtTheStartInfo()
    {
        byte[] entry = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(entry, 0x20_0000);
        byte[] image = Boot.SyntheticImages.Elf(code: s_reportEbx, notes: Boot.SyntheticImages.Note("Xen", ElfImage.XenPhys32EntryNoteType, entry));
        VmRunResult result = await RunAsync(image);
        Assert.Equal($"the guest exited with code {BootLayout.PvhStartInfoAddress >> 8}", result.Message);
    }

    private static byte[] BzImageWithEntryCode(byte[] entryCode)
    {
        byte[] image = Boot.SyntheticImages.BzImage(initSize: 0x10_0000);
        entryCode.CopyTo(image, 0xA00 + 0x200);
        return image;
    }

    private static async Task<VmRunResult> RunAsync(byte[] kernel)
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string path = Path.Combine(Directory.CreateTempSubdirectory("vmm-kvm-entry-").FullName, "kernel");
        await File.WriteAllBytesAsync(path, kernel, TestContext.Current.CancellationToken);
        using CancellationTokenSource timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        return await new KvmPlatform().RunAsync(PlatformTestSpecs.Spec(path, 32ul << 20), PlatformTestSpecs.Context(), timeout.Token);
    }
}
