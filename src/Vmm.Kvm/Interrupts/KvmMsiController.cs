using Vmm.Core.Interrupts;

namespace Vmm.Kvm.Interrupts;

/// <summary>
/// MSI delivery on KVM: each vector is a GSI with an MSI route and an irqfd, so a device thread signals the guest
/// with one eventfd write and no ioctl.
/// </summary>
public sealed class KvmMsiController : IMsiController, IDisposable
{
    private readonly KvmVm _vm;
    private readonly Lock _lock = new();
    private readonly HashSet<KvmMsiVector> _vectors = [];

    internal KvmMsiController(KvmVm vm) => _vm = vm;

    /// <inheritdoc/>
    public IMsiVector CreateVector()
    {
        KvmMsiVector vector = new(_vm, this);
        lock (_lock)
        {
            _vectors.Add(vector);
        }

        return vector;
    }

    /// <summary>Disposes every vector still alive.</summary>
    public void Dispose()
    {
        KvmMsiVector[] vectors;
        lock (_lock)
        {
            vectors = [.. _vectors];
        }

        foreach (KvmMsiVector vector in vectors)
        {
            vector.Dispose();
        }
    }

    internal void Forget(KvmMsiVector vector)
    {
        lock (_lock)
        {
            _vectors.Remove(vector);
        }
    }
}
