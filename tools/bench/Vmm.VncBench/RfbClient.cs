using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Vmm.Plugins.Display.Testing;

namespace Vmm.VncBench;

/// <summary>
/// The one RFB 3.8 client both servers are measured with (security None, 32-bit B,G,R,X little-endian pixels).
/// Timed updates are only framed (rectangle headers parsed, pixel data read and dropped) so the client's work does
/// not depend on the server; <see cref="ReadFramebuffer"/> decodes one full Raw update to check the picture.
/// </summary>
internal sealed class RfbClient : IDisposable
{
    public const int Raw = 0;
    public const int Zrle = 16;

    private readonly TcpClient _tcp = new() { NoDelay = true, ReceiveBufferSize = 4 << 20 };
    private readonly NetworkStream _stream;
    private readonly byte[] _scratch = new byte[1 << 20];
    private readonly byte[] _request = new byte[RfbClientMessages.FramebufferUpdateRequestLength];

    public RfbClient(IPEndPoint endPoint, params int[] encodings)
    {
        _tcp.ReceiveTimeout = 30_000;
        _tcp.Connect(endPoint);
        _stream = _tcp.GetStream();
        Handshake();
        SetPixelFormat();
        SetEncodings(encodings);
    }

    public int Width { get; private set; }

    public int Height { get; private set; }

    public void RequestUpdate(bool incremental)
    {
        RfbClientMessages.WriteFramebufferUpdateRequest(_request, incremental, (ushort)Width, (ushort)Height);
        _stream.Write(_request);
    }

    /// <summary>Reads one FramebufferUpdate, dropping the pixel data; returns the pixels its rectangles cover and its bytes.</summary>
    public (long Pixels, long Bytes) ReadUpdate()
    {
        Span<byte> header = stackalloc byte[12];
        _stream.ReadExactly(header[..4]);
        if (header[0] != 0)
        {
            throw new InvalidDataException($"server message {header[0]}, expected a FramebufferUpdate");
        }

        int count = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
        long pixels = 0, bytes = 4;
        for (int i = 0; i < count; i++)
        {
            _stream.ReadExactly(header);
            int w = BinaryPrimitives.ReadUInt16BigEndian(header[4..]), h = BinaryPrimitives.ReadUInt16BigEndian(header[6..]);
            int encoding = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
            long length = encoding switch
            {
                Raw => (long)w * h * 4,
                Zrle => ReadLength(),
                _ => throw new InvalidDataException($"encoding {encoding}"),
            };
            Skip(length);
            pixels += (long)w * h;
            bytes += 12 + length + (encoding == Zrle ? 4 : 0);
        }

        return (pixels, bytes);
    }

    /// <summary>A full (non-incremental) update in Raw, decoded: the server's picture as B,G,R,X rows.</summary>
    public byte[] ReadFramebuffer()
    {
        SetEncodings(Raw);
        RequestUpdate(incremental: false);
        byte[] picture = new byte[Width * Height * 4];
        long covered = 0;
        Span<byte> header = stackalloc byte[12];
        while (covered < (long)Width * Height)
        {
            _stream.ReadExactly(header[..4]);
            int count = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
            for (int i = 0; i < count; i++)
            {
                _stream.ReadExactly(header);
                int x = BinaryPrimitives.ReadUInt16BigEndian(header), y = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
                int w = BinaryPrimitives.ReadUInt16BigEndian(header[4..]), h = BinaryPrimitives.ReadUInt16BigEndian(header[6..]);
                if (BinaryPrimitives.ReadInt32BigEndian(header[8..]) != Raw)
                {
                    throw new InvalidDataException("expected Raw rectangles");
                }

                for (int row = y; row < y + h; row++)
                {
                    _stream.ReadExactly(picture.AsSpan(((row * Width) + x) * 4, w * 4));
                }

                covered += (long)w * h;
            }

            if (covered < (long)Width * Height)
            {
                RequestUpdate(incremental: false);
            }
        }

        return picture;
    }

    public void Dispose() => _tcp.Dispose();

    private void Handshake()
    {
        byte[] version = new byte[12];
        _stream.ReadExactly(version);
        if (Encoding.ASCII.GetString(version) is not ("RFB 003.008\n"))
        {
            throw new InvalidDataException($"server speaks {Encoding.ASCII.GetString(version).Trim()}");
        }

        _stream.Write("RFB 003.008\n"u8);
        byte[] types = new byte[_stream.ReadByte()];
        _stream.ReadExactly(types);
        if (!types.Contains((byte)1))
        {
            throw new InvalidDataException("the server does not offer security None");
        }

        _stream.Write([1]);
        byte[] result = new byte[4];
        _stream.ReadExactly(result);
        if (BinaryPrimitives.ReadUInt32BigEndian(result) != 0)
        {
            throw new InvalidDataException("security handshake failed");
        }

        _stream.Write([1]); // ClientInit: shared
        byte[] init = new byte[24];
        _stream.ReadExactly(init);
        Width = BinaryPrimitives.ReadUInt16BigEndian(init);
        Height = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2));
        Skip(BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20)));
    }

    private void SetPixelFormat() => _stream.Write(RfbClientMessages.SetPixelFormatBgrx32());

    private void SetEncodings(params int[] encodings) => _stream.Write(RfbClientMessages.SetEncodings(encodings));

    private long ReadLength()
    {
        Span<byte> length = stackalloc byte[4];
        _stream.ReadExactly(length);
        return BinaryPrimitives.ReadUInt32BigEndian(length);
    }

    private void Skip(long length)
    {
        while (length > 0)
        {
            int n = _stream.Read(_scratch, 0, (int)Math.Min(length, _scratch.Length));
            if (n == 0)
            {
                throw new EndOfStreamException("the server closed the connection");
            }

            length -= n;
        }
    }
}
