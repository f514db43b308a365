using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Display;
using Vmm.Contracts.Input;
using Vmm.Plugins.Display.Framebuffer;

namespace Vmm.Plugins.Display.Vnc;

/// <summary>
/// One RFB client (RFC 6143; versions 3.3, 3.7 and 3.8, security type None): a reader for its messages and a
/// sender that answers update requests with what changed since the last update.
/// </summary>
internal sealed class VncConnection : IDisposable
{
    private const int MaxDamageRects = 32;
    private const int MaxCutText = 1 << 20;
    private const int TabletMax = 0x7FFF;
    private const ushort BtnLeft = 0x110, BtnRight = 0x111, BtnMiddle = 0x112;
    private const ushort AbsX = 0x00, AbsY = 0x01, RelWheel = 0x08;

    private readonly VncSink _sink;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly ILogger _logger;
    private readonly Lock _stateLock = new();
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly List<DamageRect> _damage = [];
    private readonly List<(DamageRect Destination, int SourceY)> _copies = [];
    private readonly MemoryStream _out = new();
    private readonly ZrleEncoder _zrle = new();
    private readonly CancellationTokenSource _stop = new();

    private RfbPixelFormat _format = RfbPixelFormat.Default;
    private bool _zrleEnabled;
    private bool _copyRectEnabled;
    private bool _cursorEncoding;
    private bool _desktopSize;
    private bool _updateRequested;
    private bool _fullPending = true;
    private bool _sizePending;
    private bool _cursorPending;
    private int _clientWidth;
    private int _clientHeight;
    private byte _buttons;
    private int _disposed;

    public VncConnection(VncSink sink, Socket socket, ILogger logger)
    {
        _sink = sink;
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _logger = logger;
        Name = socket.RemoteEndPoint?.ToString() ?? "client";
    }

    public string Name { get; }

    /// <summary>Runs the connection until the client leaves or the sink stops it.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        CancellationToken token = linked.Token;
        string reason = "closed";
        Task? sender = null;
        try
        {
            if (!await HandshakeAsync(token).ConfigureAwait(false))
            {
                return;
            }

            DisplayLog.VncClientConnected(_logger, Name);
            sender = Task.Run(() => SendLoopAsync(token), token);
            await ReadLoopAsync(token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or SocketException or EndOfStreamException or OperationCanceledException or InvalidDataException or ObjectDisposedException)
        {
            reason = exception.Message;
        }
        finally
        {
            _stop.Cancel();
            if (sender is not null)
            {
                try
                {
                    await sender.ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // The sender stops with the connection.
                }
            }

            DisplayLog.VncClientDisconnected(_logger, Name, reason);
        }
    }

    /// <summary>The framebuffer changed size (called under the sink's lock).</summary>
    public void OnModeChanged()
    {
        lock (_stateLock)
        {
            _sizePending = true;
            _fullPending = true;
            _damage.Clear();
            _copies.Clear();
        }

        Signal();
    }

    /// <summary>A rectangle changed (called under the sink's lock).</summary>
    public void OnDamage(DamageRect rect)
    {
        lock (_stateLock)
        {
            // With a full update owed there is nothing to record, but the sender is still woken: after a mode change
            // it waits for the first frame of the new size, and this may be it.
            if (!_fullPending)
            {
                AddDamageLocked(rect);
            }
        }

        Signal();
    }

    private void AddDamageLocked(DamageRect rect)
    {
        if (_damage.Count == MaxDamageRects)
        {
            // Too many small rects: one bounding box is cheaper than the bookkeeping.
            DamageRect box = rect;
            foreach (DamageRect r in _damage)
            {
                box = Union(box, r);
            }

            _damage.Clear();
            _damage.Add(box);
        }
        else
        {
            _damage.Add(rect);
        }
    }

    /// <summary>
    /// <paramref name="rect"/> changed by scrolling up <paramref name="distance"/> rows (called under the sink's lock).
    /// A client that is in sync gets a CopyRect and the exposed strip; any other gets the whole rect.
    /// </summary>
    public void OnScroll(DamageRect rect, int distance)
    {
        bool copied = false;
        lock (_stateLock)
        {
            if (_copyRectEnabled && !_fullPending && !_sizePending && _damage.Count == 0 && _copies.Count == 0)
            {
                _copies.Add((new DamageRect(rect.X, rect.Y, rect.Width, rect.Height - distance), rect.Y + distance));
                _damage.Add(new DamageRect(rect.X, rect.Y + rect.Height - distance, rect.Width, distance));
                copied = true;
            }
        }

        if (copied)
        {
            Signal();
        }
        else
        {
            OnDamage(rect);
        }
    }

    /// <summary>The cursor shape or visibility changed.</summary>
    public void OnCursorChanged()
    {
        lock (_stateLock)
        {
            _cursorPending = true;
        }

        Signal();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The token source stays undisposed: the loops may still observe it while they unwind.
        _stop.Cancel();
        _stream.Dispose();
    }

    private static DamageRect Union(DamageRect a, DamageRect b)
    {
        int left = Math.Min(a.X, b.X), top = Math.Min(a.Y, b.Y);
        int right = Math.Max(a.X + a.Width, b.X + b.Width), bottom = Math.Max(a.Y + a.Height, b.Y + b.Height);
        return new DamageRect(left, top, right - left, bottom - top);
    }

    private void Signal()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
        catch (ObjectDisposedException)
        {
            // The connection is gone.
        }
    }

    private async Task<bool> HandshakeAsync(CancellationToken token)
    {
        await _stream.WriteAsync("RFB 003.008\n"u8.ToArray(), token).ConfigureAwait(false);
        byte[] version = new byte[12];
        await _stream.ReadExactlyAsync(version, token).ConfigureAwait(false);
        string text = Encoding.ASCII.GetString(version);
        if (!text.StartsWith("RFB 003.", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"not an RFB client ({text.TrimEnd()})");
        }

        int minor = int.TryParse(text.AsSpan(8, 3), out int m) ? m : 3;
        if (minor < 7)
        {
            // 3.3: the server picks the security type; None has no result message.
            await _stream.WriteAsync(new byte[] { 0, 0, 0, 1 }, token).ConfigureAwait(false);
        }
        else
        {
            await _stream.WriteAsync(new byte[] { 1, 1 }, token).ConfigureAwait(false);
            byte[] chosen = new byte[1];
            await _stream.ReadExactlyAsync(chosen, token).ConfigureAwait(false);
            if (chosen[0] != 1)
            {
                throw new InvalidDataException($"the client chose security type {chosen[0]}");
            }

            if (minor >= 8)
            {
                await _stream.WriteAsync(new byte[] { 0, 0, 0, 0 }, token).ConfigureAwait(false);
            }
        }

        byte[] clientInit = new byte[1];
        await _stream.ReadExactlyAsync(clientInit, token).ConfigureAwait(false);

        byte[] name = Encoding.UTF8.GetBytes(_sink.DesktopName);
        byte[] serverInit = new byte[24 + name.Length];
        (int width, int height) = _sink.GetSize();
        lock (_stateLock)
        {
            _clientWidth = width;
            _clientHeight = height;
            _sizePending = false;
        }

        BinaryPrimitives.WriteUInt16BigEndian(serverInit, (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(serverInit.AsSpan(2), (ushort)height);
        RfbPixelFormat.Default.Write(serverInit.AsSpan(4));
        BinaryPrimitives.WriteUInt32BigEndian(serverInit.AsSpan(20), (uint)name.Length);
        name.CopyTo(serverInit, 24);
        await _stream.WriteAsync(serverInit, token).ConfigureAwait(false);
        return true;
    }

    private async Task ReadLoopAsync(CancellationToken token)
    {
        byte[] buffer = new byte[20];
        while (true)
        {
            await _stream.ReadExactlyAsync(buffer.AsMemory(0, 1), token).ConfigureAwait(false);
            switch (buffer[0])
            {
                case 0: // SetPixelFormat
                    await _stream.ReadExactlyAsync(buffer.AsMemory(0, 19), token).ConfigureAwait(false);
                    RfbPixelFormat format = RfbPixelFormat.Read(buffer.AsSpan(3));
                    if (!format.IsSupported)
                    {
                        throw new InvalidDataException($"unsupported pixel format {format}");
                    }

                    lock (_stateLock)
                    {
                        _format = format;
                        _fullPending = true;
                        _cursorPending = true;
                    }

                    break;
                case 2: // SetEncodings
                    await _stream.ReadExactlyAsync(buffer.AsMemory(0, 3), token).ConfigureAwait(false);
                    int count = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(1));
                    byte[] encodings = new byte[count * 4];
                    await _stream.ReadExactlyAsync(encodings, token).ConfigureAwait(false);
                    SetEncodings(encodings);
                    break;
                case 3: // FramebufferUpdateRequest
                    await _stream.ReadExactlyAsync(buffer.AsMemory(0, 9), token).ConfigureAwait(false);
                    lock (_stateLock)
                    {
                        _updateRequested = true;
                        _fullPending |= buffer[0] == 0;
                    }

                    Signal();
                    break;
                case 4: // KeyEvent
                    await _stream.ReadExactlyAsync(buffer.AsMemory(0, 7), token).ConfigureAwait(false);
                    OnKey(buffer[0] != 0, BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(3)));
                    break;
                case 5: // PointerEvent
                    await _stream.ReadExactlyAsync(buffer.AsMemory(0, 5), token).ConfigureAwait(false);
                    OnPointer(buffer[0], BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(1)), BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(3)));
                    break;
                case 6: // ClientCutText: read and drop
                    await _stream.ReadExactlyAsync(buffer.AsMemory(0, 7), token).ConfigureAwait(false);
                    // Negative means the extended-clipboard form; widened first, as int.MinValue has no int magnitude.
                    long length = Math.Abs((long)BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(3)));
                    if (length > MaxCutText)
                    {
                        throw new InvalidDataException($"cut text of {length} bytes");
                    }

                    await _stream.ReadExactlyAsync(new byte[length], token).ConfigureAwait(false);
                    break;
                default:
                    throw new InvalidDataException($"unknown client message {buffer[0]}");
            }
        }
    }

    private void SetEncodings(ReadOnlySpan<byte> encodings)
    {
        bool zrle = false, copyRect = false, cursor = false, desktopSize = false;
        for (int i = 0; i + 4 <= encodings.Length; i += 4)
        {
            switch (BinaryPrimitives.ReadInt32BigEndian(encodings[i..]))
            {
                case RfbEncoding.Zrle:
                    zrle = true;
                    break;
                case RfbEncoding.CopyRect:
                    copyRect = true;
                    break;
                case RfbEncoding.Cursor:
                    cursor = true;
                    break;
                case RfbEncoding.DesktopSize:
                    desktopSize = true;
                    break;
                default:
                    break;
            }
        }

        lock (_stateLock)
        {
            _zrleEnabled = zrle;
            _copyRectEnabled = copyRect;
            _cursorEncoding = cursor;
            _desktopSize = desktopSize;
            _cursorPending = cursor;
        }
    }

    private void OnKey(bool down, uint keysym)
    {
        if (_sink.InputRouter is { } router && KeysymMap.TryGetKey(keysym, out ushort key))
        {
            ReadOnlySpan<InputEvent> events = [new InputEvent(InputEventTypes.Key, key, down ? 1 : 0), InputEvent.SynReport];
            router.Publish(InputDeviceKind.Keyboard, events);
        }
    }

    private void OnPointer(byte mask, ushort x, ushort y)
    {
        IInputRouter? router = _sink.InputRouter;
        byte previous = _buttons;
        _buttons = mask;
        if (router is null)
        {
            return;
        }

        (int width, int height) = _sink.GetSize();
        Span<InputEvent> events = stackalloc InputEvent[8];
        int n = 0;
        events[n++] = new InputEvent(InputEventTypes.Absolute, AbsX, Scale(x, width));
        events[n++] = new InputEvent(InputEventTypes.Absolute, AbsY, Scale(y, height));
        ReadOnlySpan<(int Bit, ushort Button)> buttons = [(0, BtnLeft), (1, BtnMiddle), (2, BtnRight)];
        foreach ((int bit, ushort button) in buttons)
        {
            int now = (mask >> bit) & 1;
            if (now != ((previous >> bit) & 1))
            {
                events[n++] = new InputEvent(InputEventTypes.Key, button, now);
            }
        }

        // Wheel "buttons" 4 and 5 are clicks: count the press only.
        if ((mask & 0x08) != 0 && (previous & 0x08) == 0)
        {
            events[n++] = new InputEvent(InputEventTypes.Relative, RelWheel, 1);
        }

        if ((mask & 0x10) != 0 && (previous & 0x10) == 0)
        {
            events[n++] = new InputEvent(InputEventTypes.Relative, RelWheel, -1);
        }

        events[n++] = InputEvent.SynReport;
        router.Publish(InputDeviceKind.Tablet, events[..n]);
    }

    private static int Scale(int value, int size) => size <= 1 ? 0 : (int)Math.Min(TabletMax, (long)value * TabletMax / (size - 1));

    private async Task SendLoopAsync(CancellationToken token)
    {
        while (true)
        {
            await _signal.WaitAsync(token).ConfigureAwait(false);
            while (BuildUpdate())
            {
                await _stream.WriteAsync(_out.GetBuffer().AsMemory(0, (int)_out.Length), token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Encodes the next FramebufferUpdate into <c>_out</c>; false when there is nothing to send yet.</summary>
    private bool BuildUpdate()
    {
        // Lock order: the sink's framebuffer lock, then this connection's state lock (as the sink's callbacks take them).
        lock (_sink.FramebufferLock)
        {
            SinkFramebuffer framebuffer = _sink.Framebuffer;
            RfbPixelFormat format;
            bool zrle, sendSize, sendCursor, full;
            DamageRect[] damage;
            (DamageRect Destination, int SourceY)[] copies;
            lock (_stateLock)
            {
                if (!_updateRequested || !framebuffer.HasFrame)
                {
                    return false;
                }

                sendSize = _sizePending || framebuffer.Width != _clientWidth || framebuffer.Height != _clientHeight;
                if (sendSize && !_desktopSize)
                {
                    // The client cannot resize: it keeps its size and gets the part that fits.
                    sendSize = false;
                    _sizePending = false;
                }

                sendCursor = _cursorPending && _cursorEncoding;
                full = _fullPending || sendSize;
                if (!full && !sendCursor && _damage.Count == 0 && _copies.Count == 0)
                {
                    return false;
                }

                format = _format;
                zrle = _zrleEnabled;
                damage = full ? [] : [.. _damage];
                copies = full ? [] : [.. _copies];
                _damage.Clear();
                _copies.Clear();
                _updateRequested = false;
                _cursorPending = false;
                if (sendSize)
                {
                    // The size goes alone; the full frame follows in the next update.
                    _sizePending = false;
                    _clientWidth = framebuffer.Width;
                    _clientHeight = framebuffer.Height;
                    _updateRequested = true;
                }
                else
                {
                    _fullPending = false;
                }
            }

            _out.SetLength(0);
            // FramebufferUpdate: message type 0, padding, then the rectangle count, patched in below.
            _out.Write([0, 0, 0, 0]);
            int rects = 0;
            if (sendSize)
            {
                WriteRectHeader(0, 0, framebuffer.Width, framebuffer.Height, RfbEncoding.DesktopSize);
                rects++;
            }
            else
            {
                if (sendCursor)
                {
                    WriteCursor(format);
                    rects++;
                }

                DamageRect limit = new(0, 0, Math.Min(_clientWidth, framebuffer.Width), Math.Min(_clientHeight, framebuffer.Height));
                if (full)
                {
                    damage = [limit];
                }

                // Copies first: they read the client's picture as it was before this update.
                Span<byte> source = stackalloc byte[4];
                foreach ((DamageRect destination, int sourceY) in copies)
                {
                    WriteRectHeader(destination.X, destination.Y, destination.Width, destination.Height, RfbEncoding.CopyRect);
                    BinaryPrimitives.WriteUInt16BigEndian(source, (ushort)destination.X);
                    BinaryPrimitives.WriteUInt16BigEndian(source[2..], (ushort)sourceY);
                    _out.Write(source);
                    rects++;
                }

                foreach (DamageRect d in damage)
                {
                    DamageRect rect = Intersect(d, limit);
                    if (rect.Width <= 0 || rect.Height <= 0)
                    {
                        continue;
                    }

                    WriteRect(framebuffer, rect, format, zrle);
                    rects++;
                }
            }

            _out.Position = 2;
            _out.WriteByte((byte)(rects >> 8));
            _out.WriteByte((byte)rects);
            _out.Position = _out.Length;
            return true;
        }
    }

    private static DamageRect Intersect(DamageRect a, DamageRect b)
    {
        int left = Math.Max(a.X, b.X), top = Math.Max(a.Y, b.Y);
        int right = Math.Min(a.X + a.Width, b.X + b.Width), bottom = Math.Min(a.Y + a.Height, b.Y + b.Height);
        return new DamageRect(left, top, Math.Max(0, right - left), Math.Max(0, bottom - top));
    }

    private void WriteRectHeader(int x, int y, int width, int height, int encoding)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)x);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)y);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], (ushort)height);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], encoding);
        _out.Write(header);
    }

    private void WriteRect(SinkFramebuffer framebuffer, DamageRect rect, RfbPixelFormat format, bool zrle)
    {
        WriteRectHeader(rect.X, rect.Y, rect.Width, rect.Height, zrle ? RfbEncoding.Zrle : RfbEncoding.Raw);
        if (zrle)
        {
            _zrle.Encode(framebuffer, rect, format, _out);
            return;
        }

        if (format.IsBgrx)
        {
            // The client takes our own layout: rows go out as they are, full-width rects as one block.
            ReadOnlySpan<byte> pixels = framebuffer.Pixels;
            if (rect.X == 0 && rect.Width == framebuffer.Width)
            {
                _out.Write(pixels.Slice(rect.Y * framebuffer.Stride, rect.Height * framebuffer.Stride));
                return;
            }

            for (int y = rect.Y; y < rect.Y + rect.Height; y++)
            {
                _out.Write(pixels.Slice((y * framebuffer.Stride) + (rect.X * 4), rect.Width * 4));
            }

            return;
        }

        byte[] row = new byte[rect.Width * format.BytesPerPixel];
        for (int y = rect.Y; y < rect.Y + rect.Height; y++)
        {
            format.Convert(framebuffer.Pixels.Slice((y * framebuffer.Stride) + (rect.X * 4), rect.Width * 4), rect.Width, row);
            _out.Write(row);
        }
    }

    private void WriteCursor(RfbPixelFormat format)
    {
        (CursorShape? shape, bool visible) = _sink.GetCursor();
        if (shape is null || !visible)
        {
            WriteRectHeader(0, 0, 0, 0, RfbEncoding.Cursor);
            return;
        }

        WriteRectHeader(shape.HotX, shape.HotY, shape.Width, shape.Height, RfbEncoding.Cursor);
        ReadOnlySpan<byte> bgra = shape.Pixels.Span;
        byte[] row = new byte[shape.Width * format.BytesPerPixel];
        for (int y = 0; y < shape.Height; y++)
        {
            format.Convert(bgra.Slice(y * shape.Width * 4, shape.Width * 4), shape.Width, row);
            _out.Write(row);
        }

        int maskStride = (shape.Width + 7) / 8;
        byte[] mask = new byte[maskStride * shape.Height];
        for (int y = 0; y < shape.Height; y++)
        {
            for (int x = 0; x < shape.Width; x++)
            {
                if (bgra[(((y * shape.Width) + x) * 4) + 3] >= 0x80)
                {
                    mask[(y * maskStride) + (x / 8)] |= (byte)(0x80 >> (x % 8));
                }
            }
        }

        _out.Write(mask);
    }
}
