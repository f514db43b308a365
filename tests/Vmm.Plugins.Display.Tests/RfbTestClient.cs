using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Vmm.Plugins.Display.Testing;

namespace Vmm.Plugins.Display.Tests;

/// <summary>
/// A test-only RFB 3.8 client written from RFC 6143: handshake with security None, Raw and ZRLE decoding into a
/// 32-bit B,G,R,X framebuffer, Cursor and DesktopSize pseudo-rectangles, key and pointer events.
/// </summary>
internal sealed class RfbTestClient : IDisposable
{
    private readonly TcpClient _tcp = new();
    private readonly NetworkStream _stream;
    private readonly FeedStream _zlibInput = new();
    private readonly ZLibStream _zlib;

    public RfbTestClient(IPEndPoint endPoint)
    {
        _tcp.ReceiveTimeout = 10_000;
        _tcp.Connect(endPoint);
        _stream = _tcp.GetStream();
        _zlib = new ZLibStream(_zlibInput, CompressionMode.Decompress);
    }

    public int Width { get; private set; }

    public int Height { get; private set; }

    public string Name { get; private set; } = "";

    public byte[] ServerPixelFormat { get; } = new byte[16];

    public byte[] Framebuffer { get; private set; } = [];

    public List<int> LastEncodings { get; } = [];

    /// <summary>The ZRLE tile subencodings seen so far, in order.</summary>
    public List<int> LastZrleSubencodings { get; } = [];

    public (int HotX, int HotY, int Width, int Height)? LastCursor { get; private set; }

    public void Handshake()
    {
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(ReadBytes(12)));
        _stream.Write("RFB 003.008\n"u8);
        int count = ReadBytes(1)[0];
        byte[] types = ReadBytes(count);
        Assert.Contains((byte)1, types);
        _stream.Write([1]);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(ReadBytes(4)));
        _stream.Write([1]); // ClientInit: shared
        byte[] init = ReadBytes(24);
        Width = BinaryPrimitives.ReadUInt16BigEndian(init);
        Height = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2));
        init.AsSpan(4, 16).CopyTo(ServerPixelFormat);
        Name = Encoding.UTF8.GetString(ReadBytes((int)BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20))));
        Framebuffer = new byte[Width * Height * 4];
    }

    public void SetEncodings(params int[] encodings) => _stream.Write(RfbClientMessages.SetEncodings(encodings));

    public void RequestUpdate(bool incremental)
    {
        Span<byte> message = stackalloc byte[RfbClientMessages.FramebufferUpdateRequestLength];
        RfbClientMessages.WriteFramebufferUpdateRequest(message, incremental, (ushort)Width, (ushort)Height);
        _stream.Write(message);
    }

    public void SetPixelFormat565() => _stream.Write(RfbClientMessages.SetPixelFormat(16, 16, (31, 63, 31), (11, 5, 0)));

    /// <summary>Reads an update of one Raw rectangle in a 16-bit format and returns its bytes.</summary>
    public byte[] ReadRawUpdate16(int pixels)
    {
        byte[] header = ReadBytes(4);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)));
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(ReadBytes(12).AsSpan(8)));
        return ReadBytes(pixels * 2);
    }

    public void SendKey(bool down, uint keysym) => _stream.Write(RfbClientMessages.KeyEvent(down, keysym));

    public void SendPointer(byte buttons, ushort x, ushort y) => _stream.Write(RfbClientMessages.PointerEvent(buttons, x, y));

    /// <summary>Reads one FramebufferUpdate and applies it; returns its rectangles.</summary>
    public List<(int X, int Y, int Width, int Height, int Encoding)> ReadUpdate()
    {
        byte[] header = ReadBytes(4);
        Assert.Equal(0, header[0]);
        int count = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
        var rects = new List<(int, int, int, int, int)>();
        LastEncodings.Clear();
        for (int i = 0; i < count; i++)
        {
            byte[] r = ReadBytes(12);
            int x = BinaryPrimitives.ReadUInt16BigEndian(r), y = BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(2));
            int w = BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(4)), h = BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(6));
            int encoding = BinaryPrimitives.ReadInt32BigEndian(r.AsSpan(8));
            rects.Add((x, y, w, h, encoding));
            LastEncodings.Add(encoding);
            switch (encoding)
            {
                case 0:
                    for (int row = 0; row < h; row++)
                    {
                        ReadBytes(w * 4).CopyTo(Framebuffer.AsSpan((((y + row) * Width) + x) * 4));
                    }

                    break;
                case 16:
                    DecodeZrle(x, y, w, h);
                    break;
                case 1:
                    byte[] source = ReadBytes(4);
                    int sx = BinaryPrimitives.ReadUInt16BigEndian(source), sy = BinaryPrimitives.ReadUInt16BigEndian(source.AsSpan(2));
                    byte[] copy = new byte[w * h * 4];
                    for (int row = 0; row < h; row++)
                    {
                        Framebuffer.AsSpan((((sy + row) * Width) + sx) * 4, w * 4).CopyTo(copy.AsSpan(row * w * 4));
                    }

                    for (int row = 0; row < h; row++)
                    {
                        copy.AsSpan(row * w * 4, w * 4).CopyTo(Framebuffer.AsSpan((((y + row) * Width) + x) * 4));
                    }

                    break;
                case -239:
                    ReadBytes((w * h * 4) + (((w + 7) / 8) * h));
                    LastCursor = (x, y, w, h);
                    break;
                case -223:
                    Width = w;
                    Height = h;
                    Framebuffer = new byte[w * h * 4];
                    break;
                default:
                    throw new InvalidDataException($"encoding {encoding}");
            }
        }

        return rects;
    }

    public byte[] Pixel(int x, int y) => Framebuffer.AsSpan(((y * Width) + x) * 4, 3).ToArray();

    public void Dispose()
    {
        _zlib.Dispose();
        _tcp.Dispose();
    }

    private void DecodeZrle(int x0, int y0, int width, int height)
    {
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(ReadBytes(4));
        _zlibInput.Append(ReadBytes(length));
        for (int ty = y0; ty < y0 + height; ty += 64)
        {
            int th = Math.Min(64, y0 + height - ty);
            for (int tx = x0; tx < x0 + width; tx += 64)
            {
                int tw = Math.Min(64, x0 + width - tx);
                int subencoding = _zlib.ReadByte();
                LastZrleSubencodings.Add(subencoding);
                if (subencoding == 0)
                {
                    for (int y = ty; y < ty + th; y++)
                    {
                        for (int x = tx; x < tx + tw; x++)
                        {
                            _zlib.ReadExactly(Framebuffer.AsSpan(((y * Width) + x) * 4, 3));
                        }
                    }

                    continue;
                }

                // Solid (1) and packed palette (2-16): the palette, then 1, 2 or 4 bits a pixel, MSB first, rows padded.
                Assert.InRange(subencoding, 1, 16);
                byte[] palette = new byte[subencoding * 3];
                _zlib.ReadExactly(palette);
                int bits = subencoding == 1 ? 0 : subencoding == 2 ? 1 : subencoding <= 4 ? 2 : 4;
                for (int y = ty; y < ty + th; y++)
                {
                    byte[] row = bits == 0 ? [] : new byte[((tw * bits) + 7) / 8];
                    _zlib.ReadExactly(row);
                    for (int x = tx; x < tx + tw; x++)
                    {
                        int index = 0;
                        if (bits > 0)
                        {
                            int bit = (x - tx) * bits;
                            index = (row[bit / 8] >> (8 - bits - (bit % 8))) & ((1 << bits) - 1);
                        }

                        Assert.InRange(index, 0, subencoding - 1);
                        palette.AsSpan(index * 3, 3).CopyTo(Framebuffer.AsSpan(((y * Width) + x) * 4, 3));
                    }
                }
            }
        }
    }

    private byte[] ReadBytes(int count)
    {
        byte[] bytes = new byte[count];
        _stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The input side of the connection's one zlib stream: bytes are appended as rectangles arrive.</summary>
    private sealed class FeedStream : Stream
    {
        private readonly Queue<byte> _bytes = new();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Append(byte[] data)
        {
            foreach (byte b in data)
            {
                _bytes.Enqueue(b);
            }
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = 0;
            while (n < count && _bytes.Count > 0)
            {
                buffer[offset + n++] = _bytes.Dequeue();
            }

            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
