using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using Vmm.VhostUser.Protocol;

namespace Vmm.Plugins.VirtioGpu.Testing.VhostUser;

/// <summary>The reading thread: one message at a time, each checked against the protocol before it changes anything.</summary>
public sealed partial class VhostUserGpuDisplayPeer
{
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
                Count(ref _dmabufUpdates);
                SendReply(header.Request, 0);
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
        // Counted before the reply leaves, so whoever reads the reply also sees the count.
        Count(ref _displayInfoRequests);
        SendReply(VhostUserGpuRequest.GetDisplayInfo, DisplayInfoLength);
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
        Count(ref _edidRequests);
        SendReply(VhostUserGpuRequest.GetEdid, EdidResponseLength);
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
