using System.Net.Sockets;
using Vmm.Testing.VhostUser;

namespace Vmm.Plugins.VirtioGpu.Testing.VhostUser;

/// <summary>
/// The front-end's end of the vhost-user-gpu display socket, playing the display QEMU would be: it answers the
/// back-end's questions (protocol features, display info, EDID), follows scanout and cursor changes, and copies
/// every UPDATE's pixels into a frame buffer the size of scanout 0 (other scanouts are checked, their pixels
/// dropped). One thread reads the socket until it closes. Every byte from the back-end is checked: a malformed
/// message ends the peer with <see cref="Failure"/> set.
/// </summary>
/// <remarks>
/// DMABUF scanouts are counted but not shown: the descriptor is not received (the kernel closes it), and each
/// DMABUF_UPDATE gets the empty reply the back-end waits for.
/// </remarks>
public sealed partial class VhostUserGpuDisplayPeer : IDisposable
{
    /// <summary>VHOST_USER_GPU_PROTOCOL_F_EDID: the front-end answers GET_EDID.</summary>
    public const ulong EdidProtocolFeature = 1UL << 0;

    /// <summary>VHOST_USER_GPU_PROTOCOL_F_DMABUF2: DMABUF scanouts with modifiers.</summary>
    public const ulong Dmabuf2ProtocolFeature = 1UL << 1;

    /// <summary>The largest scanout side this display accepts.</summary>
    public const int MaxDimension = 16384;

    /// <summary>VIRTIO_GPU_MAX_SCANOUTS.</summary>
    public const int MaxScanouts = 16;

    /// <summary>sizeof(struct virtio_gpu_resp_display_info): header and 16 modes of rect, enabled, flags.</summary>
    public const int DisplayInfoLength = ControlHeaderLength + (MaxScanouts * 24);

    /// <summary>sizeof(struct virtio_gpu_resp_edid): header, size, padding, 1024 bytes of EDID.</summary>
    public const int EdidResponseLength = ControlHeaderLength + 8 + MaxEdidLength;

    /// <summary>sizeof(VhostUserGpuCursorUpdate): position, hot spot, 64x64 ARGB.</summary>
    public const int CursorUpdateLength = CursorPositionLength + 8 + (CursorSide * CursorSide * 4);

    private const int ControlHeaderLength = 24;
    private const int MaxEdidLength = 1024;
    private const int CursorPositionLength = 12;
    private const int CursorSide = 64;
    private const int ScanoutLength = 12;
    private const int DmabufScanoutLength = 40;
    private const int DmabufScanout2Length = 48;
    private const int DiscardChunk = 64 * 1024;
    private const uint RespOkDisplayInfo = 0x1101;
    private const uint RespOkEdid = 0x1104;

    private readonly Socket _socket;
    private readonly Thread _thread;
    private readonly object _sync = new();
    private readonly byte[] _payload = new byte[CursorUpdateLength];
    private readonly byte[] _reply = new byte[VhostUserGpuHeader.Length + EdidResponseLength];
    private readonly byte[] _cursor = new byte[CursorSide * CursorSide * 4];
    private readonly (int Width, int Height)[] _scanouts = new (int, int)[MaxScanouts];
    private byte[] _discard = [];
    private byte[] _frame = [];
    private byte[] _edid = [];
    private ulong _acceptedProtocolFeatures;
    private bool _protocolFeaturesSet;
    private long _updates;
    private long _updatedBytes;
    private long _dmabufUpdates;
    private long _dmabufScanouts;
    private long _cursorUpdates;
    private long _displayInfoRequests;
    private long _edidRequests;
    private (int X, int Y, bool Visible) _cursorPosition;
    private bool _started;
    private bool _closed;
    private volatile bool _disposed;

    /// <summary>
    /// Wraps the front-end's end of a connected display socket; <paramref name="preferredWidth"/> x
    /// <paramref name="preferredHeight"/> is the mode GET_DISPLAY_INFO reports for scanout 0. Call <see cref="Start"/>.
    /// </summary>
    public VhostUserGpuDisplayPeer(Socket socket, int preferredWidth, int preferredHeight)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(preferredWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(preferredHeight);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(preferredWidth, MaxDimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(preferredHeight, MaxDimension);
        _socket = socket;
        PreferredWidth = preferredWidth;
        PreferredHeight = preferredHeight;
        _thread = new Thread(Run) { IsBackground = true, Name = "vhost-user-gpu display" };
    }

    /// <summary>The mode GET_DISPLAY_INFO reports for scanout 0.</summary>
    public int PreferredWidth { get; }

    /// <summary>The mode GET_DISPLAY_INFO reports for scanout 0.</summary>
    public int PreferredHeight { get; }

    /// <summary>The protocol features this display offers (EDID).</summary>
    public ulong OfferedProtocolFeatures => EdidProtocolFeature;

    /// <summary>The EDID GET_EDID returns (at most 1024 bytes; empty by default). Set before <see cref="Start"/>.</summary>
    public ReadOnlyMemory<byte> Edid
    {
        get => _edid;
        set
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value.Length, MaxEdidLength);
            _edid = value.ToArray();
        }
    }

    /// <summary>What SET_PROTOCOL_FEATURES enabled, or null before the back-end sent it.</summary>
    public ulong? AcceptedProtocolFeatures
    {
        get
        {
            lock (_sync)
            {
                return _protocolFeaturesSet ? _acceptedProtocolFeatures : null;
            }
        }
    }

    /// <summary>Scanout 0's size from the last SCANOUT (0x0 when disabled or not set yet).</summary>
    public (int Width, int Height) ScanoutSize
    {
        get
        {
            lock (_sync)
            {
                return _scanouts[0];
            }
        }
    }

    /// <summary>UPDATE messages received (every scanout).</summary>
    public long Updates => Read(ref _updates);

    /// <summary>Pixel bytes received in UPDATE messages.</summary>
    public long UpdatedBytes => Read(ref _updatedBytes);

    /// <summary>DMABUF_UPDATE messages answered.</summary>
    public long DmabufUpdates => Read(ref _dmabufUpdates);

    /// <summary>DMABUF_SCANOUT and DMABUF_SCANOUT2 messages received.</summary>
    public long DmabufScanouts => Read(ref _dmabufScanouts);

    /// <summary>CURSOR_UPDATE messages received.</summary>
    public long CursorUpdates => Read(ref _cursorUpdates);

    /// <summary>GET_DISPLAY_INFO requests answered.</summary>
    public long DisplayInfoRequests => Read(ref _displayInfoRequests);

    /// <summary>GET_EDID requests answered.</summary>
    public long EdidRequests => Read(ref _edidRequests);

    /// <summary>Where the cursor is and whether it shows.</summary>
    public (int X, int Y, bool Visible) CursorPosition
    {
        get
        {
            lock (_sync)
            {
                return _cursorPosition;
            }
        }
    }

    /// <summary>Why the peer stopped reading, when the back-end broke the protocol; null otherwise.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Whether the socket closed or the peer failed.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_sync)
            {
                return _closed;
            }
        }
    }

    /// <summary>
    /// Creates a connected socket pair, sends one end to the back-end with VHOST_USER_GPU_SET_SOCKET and starts a
    /// display on the other.
    /// </summary>
    public static VhostUserGpuDisplayPeer Attach(VhostUserFrontend frontend, int preferredWidth, int preferredHeight)
    {
        ArgumentNullException.ThrowIfNull(frontend);
        (Socket ours, Socket theirs) = UnixSocketPair.Create();
        VhostUserGpuDisplayPeer? peer = null;
        try
        {
            peer = new VhostUserGpuDisplayPeer(ours, preferredWidth, preferredHeight);
            peer.Start();
            frontend.SetGpuSocket(theirs);
            return peer;
        }
        catch
        {
            if (peer is null)
            {
                ours.Dispose();
            }
            else
            {
                peer.Dispose();
            }

            throw;
        }
        finally
        {
            // The back-end holds its own copy of the descriptor now (or never got it).
            theirs.Dispose();
        }
    }

    /// <summary>Starts the reading thread.</summary>
    public void Start()
    {
        lock (_sync)
        {
            if (_started)
            {
                throw new InvalidOperationException("The display peer is already started.");
            }

            _started = true;
        }

        _thread.Start();
    }

    /// <summary>A copy of scanout 0's frame buffer (B8G8R8X8, <c>Width * 4</c> bytes a row) and its size.</summary>
    public (byte[] Pixels, int Width, int Height) CopyFrame()
    {
        lock (_sync)
        {
            return ((byte[])_frame.Clone(), _scanouts[0].Width, _scanouts[0].Height);
        }
    }

    /// <summary>Waits until <see cref="Updates"/> + <see cref="DmabufUpdates"/> reaches <paramref name="count"/>; false on timeout or close.</summary>
    public bool WaitForUpdates(long count, TimeSpan timeout)
    {
        // No closure: benchmarks call this once a frame.
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_sync)
        {
            while (_updates + _dmabufUpdates < count)
            {
                if (!WaitLocked(deadline))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Waits until the back-end has sent SET_PROTOCOL_FEATURES; false on timeout or close.</summary>
    public bool WaitForProtocolFeatures(TimeSpan timeout) => WaitUntil(() => _protocolFeaturesSet, timeout);

    /// <summary>Waits until the socket closed or the peer failed; false on timeout.</summary>
    public bool WaitForClose(TimeSpan timeout) => WaitUntil(() => false, timeout) || IsClosed;

    /// <summary>Closes the socket and waits for the reading thread.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already disconnected.
        }

        if (_thread.IsAlive)
        {
            _thread.Join();
        }

        _socket.Dispose();
    }

    private long Read(ref long counter)
    {
        lock (_sync)
        {
            return counter;
        }
    }

    private bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_sync)
        {
            while (!condition())
            {
                if (!WaitLocked(deadline))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Waits for a pulse; false once the peer closed or <paramref name="deadline"/> passed.</summary>
    private bool WaitLocked(long deadline)
    {
        long left = deadline - Environment.TickCount64;
        if (_closed || left <= 0)
        {
            return false;
        }

        Monitor.Wait(_sync, (int)Math.Min(left, int.MaxValue));
        return true;
    }
}
