using Microsoft.Win32.SafeHandles;
using Vmm.Interop;

namespace Vmm.VhostUser.Backend;

/// <summary>What the front-end told us about one ring; the live queue is built from it at activation.</summary>
internal sealed class VhostUserVring : IDisposable
{
    private SafeFileHandle? _error;

    public VhostUserVring(int index, ushort maxSize)
    {
        Index = index;
        MaxSize = maxSize;
        Size = maxSize;
    }

    public int Index { get; }

    public ushort MaxSize { get; }

    /// <summary>SET_VRING_NUM.</summary>
    public ushort Size { get; set; }

    /// <summary>SET_VRING_ADDR, front-end user addresses.</summary>
    public ulong DescriptorUserAddress { get; set; }

    public ulong AvailableUserAddress { get; set; }

    public ulong UsedUserAddress { get; set; }

    public bool HasAddresses { get; set; }

    /// <summary>SET_VRING_BASE, or where the ring stopped.</summary>
    public ushort Base { get; set; }

    /// <summary>A kick arrived (SET_VRING_KICK) and GET_VRING_BASE has not stopped the ring since.</summary>
    public bool Started { get; set; }

    /// <summary>SET_VRING_ENABLE (rings start enabled when protocol features were not negotiated).</summary>
    public bool Enabled { get; set; }

    /// <summary>The ring runs in the device (a queue was enabled for it).</summary>
    public bool Live { get; set; }

    public SafeFileHandle? Kick { get; private set; }

    /// <summary>The device's queue thread waits on <see cref="Kick"/> itself (<c>IVirtioNotifierHandoff</c>): not polled here.</summary>
    public bool KickTaken { get; set; }

    public SafeFileHandle? Error => Volatile.Read(ref _error);

    public VringCallLine Call { get; } = new();

    public bool CanGoLive => Started && Enabled && HasAddresses;

    public void ReplaceKick(SafeFileHandle? kick)
    {
        Kick?.Dispose();
        Kick = kick;
        KickTaken = false;
    }

    public void ReplaceError(SafeFileHandle? error) => Interlocked.Exchange(ref _error, error)?.Dispose();

    /// <summary>Signals the error eventfd, if the front-end gave one. Safe from any thread.</summary>
    public void SignalError()
    {
        if (Error is not { } error)
        {
            return;
        }

        try
        {
            HostEventFd.Signal(error);
        }
        catch (ObjectDisposedException)
        {
            // Replaced or closed meanwhile.
        }
    }

    /// <summary>Back to the state of a new connection.</summary>
    public void Clear()
    {
        Size = MaxSize;
        DescriptorUserAddress = 0;
        AvailableUserAddress = 0;
        UsedUserAddress = 0;
        HasAddresses = false;
        Base = 0;
        Started = false;
        Enabled = false;
        Live = false;
        ReplaceKick(null);
        ReplaceError(null);
        Call.Replace(null);
    }

    public void Dispose() => Clear();
}
