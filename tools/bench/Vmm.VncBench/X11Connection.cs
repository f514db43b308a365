using System.Buffers.Binary;
using System.Net.Sockets;

namespace Vmm.VncBench;

/// <summary>
/// Just enough of the X11 core protocol (little-endian client, no authorisation) to draw frames on a server's root
/// window: connection setup, CreateGC, PutImage (ZPixmap, depth 24, 32 bits a pixel: bytes B,G,R,X as our frames)
/// in bands that fit the maximum request length, and GetInputFocus as a round trip that proves the drawing is done.
/// </summary>
internal sealed class X11Connection : IDisposable
{
    private const byte OpCreateGc = 55;
    private const byte OpPutImage = 72;
    private const byte OpGetInputFocus = 43;
    private const int PutImageHeader = 24;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly uint _root;
    private readonly uint _gc;
    private readonly int _maxRequestBytes;
    private readonly byte[] _band;

    public X11Connection(int display, int width)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _socket.Connect(new UnixDomainSocketEndPoint($"/tmp/.X11-unix/X{display}"));
        _stream = new NetworkStream(_socket, ownsSocket: true);
        _stream.Write([(byte)'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        byte[] head = new byte[8];
        _stream.ReadExactly(head);
        byte[] setup = new byte[BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(6)) * 4];
        _stream.ReadExactly(setup);
        if (head[0] != 1)
        {
            throw new InvalidOperationException($"X server :{display} refused the connection: {System.Text.Encoding.ASCII.GetString(setup).TrimEnd('\0')}");
        }

        // Offsets below are within the setup reply after its 8-byte head (X11 protocol, "Connection Setup").
        uint idBase = BinaryPrimitives.ReadUInt32LittleEndian(setup.AsSpan(4));
        int vendorLength = BinaryPrimitives.ReadUInt16LittleEndian(setup.AsSpan(16));
        _maxRequestBytes = BinaryPrimitives.ReadUInt16LittleEndian(setup.AsSpan(18)) * 4;
        int formats = setup[21];
        int screen = 32 + ((vendorLength + 3) & ~3) + (formats * 8);
        _root = BinaryPrimitives.ReadUInt32LittleEndian(setup.AsSpan(screen));
        int rootDepth = setup[screen + 38];
        if (rootDepth != 24)
        {
            throw new InvalidOperationException($"X server :{display} has root depth {rootDepth}, expected 24");
        }

        _gc = idBase | 1;
        byte[] createGc = new byte[16];
        createGc[0] = OpCreateGc;
        BinaryPrimitives.WriteUInt16LittleEndian(createGc.AsSpan(2), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(createGc.AsSpan(4), _gc);
        BinaryPrimitives.WriteUInt32LittleEndian(createGc.AsSpan(8), _root);
        _stream.Write(createGc);
        _band = new byte[_maxRequestBytes];
        RowsPerRequest = (_maxRequestBytes - PutImageHeader) / (width * Frames.BytesPerPixel);
        Sync();
    }

    /// <summary>Rows of a full-width band one PutImage carries.</summary>
    public int RowsPerRequest { get; }

    /// <summary>PutImage of a rectangle of <paramref name="pixels"/> (B,G,R,X rows of <paramref name="stride"/> bytes), then a round trip.</summary>
    public void PutImage(byte[] pixels, int stride, int x, int y, int width, int height)
    {
        int rowBytes = width * Frames.BytesPerPixel;
        int rowsPerRequest = Math.Max(1, (_maxRequestBytes - PutImageHeader) / rowBytes);
        for (int top = y; top < y + height; top += rowsPerRequest)
        {
            int rows = Math.Min(rowsPerRequest, y + height - top);
            int length = PutImageHeader + (rows * rowBytes);
            Span<byte> request = _band.AsSpan(0, length);
            request[0] = OpPutImage;
            request[1] = 2; // ZPixmap
            BinaryPrimitives.WriteUInt16LittleEndian(request[2..], (ushort)(length / 4));
            BinaryPrimitives.WriteUInt32LittleEndian(request[4..], _root);
            BinaryPrimitives.WriteUInt32LittleEndian(request[8..], _gc);
            BinaryPrimitives.WriteUInt16LittleEndian(request[12..], (ushort)width);
            BinaryPrimitives.WriteUInt16LittleEndian(request[14..], (ushort)rows);
            BinaryPrimitives.WriteInt16LittleEndian(request[16..], (short)x);
            BinaryPrimitives.WriteInt16LittleEndian(request[18..], (short)top);
            request[20] = 0;  // left-pad
            request[21] = 24; // depth
            for (int row = 0; row < rows; row++)
            {
                pixels.AsSpan(((top + row) * stride) + (x * Frames.BytesPerPixel), rowBytes).CopyTo(request[(PutImageHeader + (row * rowBytes))..]);
            }

            _stream.Write(request);
        }

        Sync();
    }

    public void Dispose() => _stream.Dispose();

    /// <summary>GetInputFocus and its reply: every earlier request has been executed. An X error fails the bench.</summary>
    private void Sync()
    {
        _stream.Write([OpGetInputFocus, 0, 1, 0]);
        Span<byte> reply = stackalloc byte[32];
        while (true)
        {
            _stream.ReadExactly(reply);
            switch (reply[0])
            {
                case 0:
                    throw new InvalidOperationException($"X error {reply[1]} on request opcode {reply[10]}");
                case 1:
                    return;
                default:
                    continue; // an event
            }
        }
    }
}
