using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>
/// The fd number of a SafeHandle, borrowed for one Tmds.LibC call (which takes plain ints): a reference is held
/// until disposed, so a FORGET or RELEASE on another queue cannot close the number, and let an unrelated open
/// reuse it, while the call runs. A closed handle throws <see cref="ObjectDisposedException"/>.
/// </summary>
internal ref struct FdLease
{
    private readonly SafeHandle _handle;
    private bool _held;

    public FdLease(SafeHandle handle)
    {
        _handle = handle;
        handle.DangerousAddRef(ref _held);
        Fd = (int)handle.DangerousGetHandle();
    }

    /// <summary>The borrowed fd number.</summary>
    public int Fd { get; }

    public void Dispose()
    {
        if (_held)
        {
            _held = false;
            _handle.DangerousRelease();
        }
    }
}
