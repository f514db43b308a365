using Microsoft.Win32.SafeHandles;
using Vmm.Core.Interrupts;
using Vmm.Interop;

namespace Vmm.Kvm.Interrupts;

/// <summary>One MSI vector: a GSI whose route carries the configured message, and an irqfd on that GSI.</summary>
internal sealed class KvmMsiVector : IMsiVector
{
    private readonly KvmVm _vm;
    private readonly KvmMsiController _owner;
    private readonly SafeFileHandle _eventFd;
    private readonly uint _gsi;
    private readonly Lock _lock = new();
    private IDisposable? _irqFd;
    private volatile bool _configured;
    private bool _disposed;

    public KvmMsiVector(KvmVm vm, KvmMsiController owner)
    {
        _vm = vm;
        _owner = owner;
        _eventFd = HostEventFd.Create(nonBlocking: true);
        _gsi = vm.Routing.AllocateGsi();
    }

    /// <summary>The GSI this vector's route and irqfd use.</summary>
    public uint Gsi => _gsi;

    /// <inheritdoc/>
    public void Configure(ulong address, uint data)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            // Route first, then irqfd: an irqfd on a GSI without a route has crashed older AMD hosts.
            _vm.Routing.SetMsiRoute(_gsi, address, data);
            _irqFd ??= _vm.RegisterIrqFd(_eventFd, _gsi);
            _configured = true;
        }
    }

    /// <inheritdoc/>
    public void Signal()
    {
        if (_configured && !_eventFd.IsClosed)
        {
            HostEventFd.Signal(_eventFd);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _configured = false;

            // irqfd before its route, the reverse of Configure.
            _irqFd?.Dispose();
            if (!_vm.Handle.IsClosed)
            {
                _vm.Routing.FreeGsi(_gsi);
            }

            _eventFd.Dispose();
        }

        _owner.Forget(this);
    }
}
