using Vmm.Core.Memory;
using Vmm.Fuzz.Harness;
using Vmm.Kvm.Boot;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// The kernel loaders: the first input byte picks <see cref="ElfImage.Parse"/> (0), <see cref="BzImage.Parse"/> (1)
/// or <see cref="KernelLoader.Load"/> into a small guest memory (otherwise; ELF, PVH and bzImage by content); the rest
/// is the image. Expected: <see cref="BootImageException"/>. A finding: any other exception.
/// </summary>
public sealed class LoaderTarget : FuzzTarget
{
    private const ulong MemorySize = 64UL << 20;

    private readonly GuestMemory _memory = GuestMemory.Create(MemorySize);

    /// <inheritdoc/>
    public override string Name => "loader";

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        byte mode = input[0];
        byte[] image = input[1..].ToArray();
        try
        {
            switch (mode)
            {
                case 0:
                    ElfImage.Parse(image, "fuzz.elf");
                    break;
                case 1:
                    BzImage.Parse(image, "fuzz.bzImage");
                    break;
                default:
                    byte[]? initrd = (mode & 1) != 0 ? new byte[4096] : null;
                    KernelLoader.Load(_memory, MemorySize, 1 + (mode >> 6), image, "fuzz.kernel", initrd, "console=ttyS0");
                    break;
            }
        }
        catch (BootImageException)
        {
            // A clear refusal naming the file.
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _memory.Dispose();
        }
    }
}
