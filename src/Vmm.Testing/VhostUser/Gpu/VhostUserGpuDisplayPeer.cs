using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using Vmm.VhostUser.Protocol;

namespace Vmm.Testing.VhostUser.Gpu;

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
public sealed class VhostUserGpuDisplayPeer : IDisposable
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

    private void Run()
    {
        try
        {
            while (ReceiveMessage())
            {
            }
        }
        catch (Exception exception) when (exception is VhostUserProtocolException or SocketException or ObjectDisposedException)
        {
            if (!_disposed)
            {
                Failure = exception;
            }
        }
        finally
        {
            lock (_sync)
            {
                _closed = true;
                Monitor.PulseAll(_sync);
            }
        }
    }

    private bool ReceiveMessage()
    {
        Span<byte> headerBytes = stackalloc byte[VhostUserGpuHeader.Length];
        if (!ReceiveExactly(headerBytes, allowEnd: true))
        {
            return false;
        }

        VhostUserGpuHeader header = VhostUserGpuHeader.Read(headerBytes);
        if (header.Request == VhostUserGpuRequest.Update)
        {
            ReceiveUpdate(header.Size);
            return true;
        }

        if (header.Size > _payload.Length)
        {
            ThrowProtocol($"{header.Request} declares a {header.Size}-byte payload; the largest is {_payload.Length}.");
        }

        Span<byte> payload = _payload.AsSpan(0, (int)header.Size);
        ReceiveExactly(payload, allowEnd: false);
        switch (header.Request)
        {
            case VhostUserGpuRequest.GetProtocolFeatures:
                RequireSize(header, 0);
                BinaryPrimitives.WriteUInt64LittleEndian(ReplyPayload(8), OfferedProtocolFeatures);
                SendReply(header.Request, 8);
                break;
            case VhostUserGpuRequest.SetProtocolFeatures:
                RequireSize(header, 8);
                SetProtocolFeatures(BinaryPrimitives.ReadUInt64LittleEndian(payload));
                break;
            case VhostUserGpuRequest.GetDisplayInfo:
                RequireSize(header, 0);
                ReplyDisplayInfo();
                break;
            case VhostUserGpuRequest.GetEdid:
                RequireSize(header, 4);
                ReplyEdid(BinaryPrimitives.ReadUInt32LittleEndian(payload));
                break;
            case VhostUserGpuRequest.CursorPosition:
            case VhostUserGpuRequest.CursorPositionHide:
                RequireSize(header, CursorPositionLength);
                MoveCursor(payload, header.Request == VhostUserGpuRequest.CursorPosition);
                break;
            case VhostUserGpuRequest.CursorUpdate:
                RequireSize(header, CursorUpdateLength);
                UpdateCursor(payload);
                break;
            case VhostUserGpuRequest.Scanout:
                RequireSize(header, ScanoutLength);
                SetScanout(BinaryPrimitives.ReadUInt32LittleEndian(payload), BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]), BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]));
                break;
            case VhostUserGpuRequest.DmabufScanout:
            case VhostUserGpuRequest.DmabufScanout2:
                RequireSize(header, header.Request == VhostUserGpuRequest.DmabufScanout ? DmabufScanoutLength : DmabufScanout2Length);
                RequireScanoutId(BinaryPrimitives.ReadUInt32LittleEndian(payload));
                Count(ref _dmabufScanouts);
                break;
            case VhostUserGpuRequest.DmabufUpdate:
                RequireSize(header, VhostUserGpuUpdate.Length);
                RequireScanoutId(VhostUserGpuUpdate.Read(payload).ScanoutId);
                SendReply(header.Request, 0);
                Count(ref _dmabufUpdates);
                break;
            default:
                ThrowProtocol($"Request {(uint)header.Request} is not a vhost-user-gpu request.");
                break;
        }

        return true;
    }

    private void ReceiveUpdate(uint size)
    {
        if (size < VhostUserGpuUpdate.Length)
        {
            ThrowProtocol($"UPDATE carries {size} bytes, less than its {VhostUserGpuUpdate.Length}-byte rectangle.");
        }

        Span<byte> fixedPart = stackalloc byte[VhostUserGpuUpdate.Length];
        ReceiveExactly(fixedPart, allowEnd: false);
        VhostUserGpuUpdate update = VhostUserGpuUpdate.Read(fixedPart);
        RequireScanoutId(update.ScanoutId);
        if (size - (ulong)VhostUserGpuUpdate.Length != update.DataLength)
        {
            ThrowProtocol($"UPDATE {update.Width}x{update.Height} needs {update.DataLength} pixel bytes, the message has {size - VhostUserGpuUpdate.Length}.");
        }

        lock (_sync)
        {
            (int width, int height) = _scanouts[update.ScanoutId];
            if ((ulong)update.X + update.Width > (ulong)width || (ulong)update.Y + update.Height > (ulong)height)
            {
                ThrowProtocol($"UPDATE {update.Width}x{update.Height}+{update.X}+{update.Y} lies outside scanout {update.ScanoutId} ({width}x{height}).");
            }

            if (update.ScanoutId == 0)
            {
                ReceivePixelsLocked(update, width);
            }
            else
            {
                Discard(update.DataLength);
            }

            _updates++;
            _updatedBytes += (long)update.DataLength;
            Monitor.PulseAll(_sync);
        }
    }

    private void ReceivePixelsLocked(VhostUserGpuUpdate update, int scanoutWidth)
    {
        int stride = scanoutWidth * VhostUserGpuUpdate.BytesPerPixel;
        int row = (int)update.Width * VhostUserGpuUpdate.BytesPerPixel;
        int start = ((int)update.Y * stride) + ((int)update.X * VhostUserGpuUpdate.BytesPerPixel);
        if (row == stride)
        {
            // Whole rows are contiguous in the frame: one receive lands them all.
            ReceiveExactly(_frame.AsSpan(start, row * (int)update.Height), allowEnd: false);
            return;
        }

        for (int y = 0; y < update.Height; y++)
        {
            ReceiveExactly(_frame.AsSpan(start + (y * stride), row), allowEnd: false);
        }
    }

    private void Discard(ulong length)
    {
        if (_discard.Length == 0)
        {
            _discard = new byte[DiscardChunk];
        }

        while (length > 0)
        {
            int chunk = (int)Math.Min(length, (ulong)_discard.Length);
            ReceiveExactly(_discard.AsSpan(0, chunk), allowEnd: false);
            length -= (ulong)chunk;
        }
    }

    private void SetProtocolFeatures(ulong features)
    {
        if ((features & ~OfferedProtocolFeatures) != 0)
        {
            ThrowProtocol($"SET_PROTOCOL_FEATURES enables 0x{features:x}; this display offered 0x{OfferedProtocolFeatures:x}.");
        }

        lock (_sync)
        {
            _acceptedProtocolFeatures = features;
            _protocolFeaturesSet = true;
            Monitor.PulseAll(_sync);
        }
    }

    private void ReplyDisplayInfo()
    {
        Span<byte> info = ReplyPayload(DisplayInfoLength);
        info.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(info, RespOkDisplayInfo);
        Span<byte> mode = info[ControlHeaderLength..];
        BinaryPrimitives.WriteUInt32LittleEndian(mode[8..], (uint)PreferredWidth);
        BinaryPrimitives.WriteUInt32LittleEndian(mode[12..], (uint)PreferredHeight);
        BinaryPrimitives.WriteUInt32LittleEndian(mode[16..], 1);
        SendReply(VhostUserGpuRequest.GetDisplayInfo, DisplayInfoLength);
        Count(ref _displayInfoRequests);
    }

    private void ReplyEdid(uint scanoutId)
    {
        if ((AcceptedProtocolFeatures.GetValueOrDefault() & EdidProtocolFeature) == 0)
        {
            ThrowProtocol("GET_EDID without the EDID protocol feature.");
        }

        RequireScanoutId(scanoutId);
        Span<byte> response = ReplyPayload(EdidResponseLength);
        response.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(response, RespOkEdid);
        BinaryPrimitives.WriteUInt32LittleEndian(response[ControlHeaderLength..], (uint)_edid.Length);
        _edid.CopyTo(response[(ControlHeaderLength + 8)..]);
        SendReply(VhostUserGpuRequest.GetEdid, EdidResponseLength);
        Count(ref _edidRequests);
    }

    private void MoveCursor(ReadOnlySpan<byte> position, bool visible)
    {
        RequireScanoutId(BinaryPrimitives.ReadUInt32LittleEndian(position));
        lock (_sync)
        {
            _cursorPosition = ((int)BinaryPrimitives.ReadUInt32LittleEndian(position[4..]), (int)BinaryPrimitives.ReadUInt32LittleEndian(position[8..]), visible);
        }
    }

    private void UpdateCursor(ReadOnlySpan<byte> update)
    {
        MoveCursor(update, visible: true);
        lock (_sync)
        {
            update[(CursorPositionLength + 8)..].CopyTo(_cursor);
            _cursorUpdates++;
            Monitor.PulseAll(_sync);
        }
    }

    private void SetScanout(uint scanoutId, uint width, uint height)
    {
        RequireScanoutId(scanoutId);
        if (width > MaxDimension || height > MaxDimension || (width == 0) != (height == 0))
        {
            ThrowProtocol($"SCANOUT {scanoutId} asks for {width}x{height}.");
        }

        lock (_sync)
        {
            _scanouts[scanoutId] = ((int)width, (int)height);
            if (scanoutId == 0)
            {
                int length = (int)(width * height * VhostUserGpuUpdate.BytesPerPixel);
                if (_frame.Length != length)
                {
                    _frame = new byte[length];
                }
            }

            Monitor.PulseAll(_sync);
        }
    }

    private void Count(ref long counter)
    {
        lock (_sync)
        {
            counter++;
            Monitor.PulseAll(_sync);
        }
    }

    private Span<byte> ReplyPayload(int length) => _reply.AsSpan(VhostUserGpuHeader.Length, length);

    private void SendReply(VhostUserGpuRequest request, int payloadLength)
    {
        new VhostUserGpuHeader(request, VhostUserGpuHeader.ReplyFlag, (uint)payloadLength).Write(_reply);
        ReadOnlySpan<byte> message = _reply.AsSpan(0, VhostUserGpuHeader.Length + payloadLength);
        while (!message.IsEmpty)
        {
            message = message[_socket.Send(message)..];
        }
    }

    private bool ReceiveExactly(Span<byte> destination, bool allowEnd)
    {
        int done = 0;
        while (done < destination.Length)
        {
            int received = _socket.Receive(destination[done..]);
            if (received == 0)
            {
                if (allowEnd && done == 0)
                {
                    return false;
                }

                ThrowProtocol($"The back-end closed the display socket in the middle of a message ({done} of {destination.Length} bytes).");
            }

            done += received;
        }

        return true;
    }

    private static void RequireSize(VhostUserGpuHeader header, int size)
    {
        if (header.Size != size)
        {
            ThrowProtocol($"{header.Request} carries {header.Size} bytes, expected {size}.");
        }
    }

    private static void RequireScanoutId(uint scanoutId)
    {
        if (scanoutId >= MaxScanouts)
        {
            ThrowProtocol($"Scanout {scanoutId} does not exist (at most {MaxScanouts}).");
        }
    }

    [DoesNotReturn]
    private static void ThrowProtocol(string message) => throw new VhostUserProtocolException(message);
}
