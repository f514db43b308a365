using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Vmm.Cli.Exec;
using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>
/// <c>vmm exec</c>'s client against a fake hybrid-vsock socket and a hostile or broken agent that speaks
/// MultiplexingStream protocol v1 by hand: every misbehaviour (malformed frames, floods, silence) is one clear
/// <see cref="ExecException"/> (vmm's exit 255) within a timeout, never a hang or a crash.
/// </summary>
public sealed class ExecHostileAgentTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);
    private readonly string _uds = Path.Combine(Path.GetTempPath(), $"vmm-exec-{Guid.NewGuid():N}"[..20] + ".sock");
    private readonly Socket _listener;

    public ExecHostileAgentTests()
    {
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(_uds));
        _listener.Listen(4);
    }

    public void Dispose()
    {
        _listener.Dispose();
        File.Delete(_uds);
    }

    [Fact]
    public async Task The_request_carries_argv_env_cwd_and_the_exit_code_passes_through()
    {
        Task<List<string>> agent = RunAgent(async () =>
        {
            await using FakeAgent fake = await AcceptAsync();
            List<string> request = await fake.ReadRequestAsync();
            await fake.SendRecordAsync("pid=77");
            await fake.SendAsync(Code.Content, fake.Stdout, "out"u8.ToArray());
            await fake.SendAsync(Code.Content, fake.Stderr, "err"u8.ToArray());
            await fake.SendAsync(Code.ContentWritingCompleted, fake.Stdout, []);
            await fake.SendAsync(Code.ContentWritingCompleted, fake.Stderr, []);
            await fake.SendRecordAsync("exit=42");
            await fake.LingerAsync();
            return request;
        });
        var request = new ExecRequest(["sh", "-c", "exit 42"]) { Environment = ["A=b"], WorkingDirectory = "/tmp", UserId = 1000 };
        (int code, string output, string error) = await RunAsync(request);
        Assert.Equal((42, "out", "err"), (code, output, error));
        Assert.Equal(["arg=sh", "arg=-c", "arg=exit 42", "env=A=b", "cwd=/tmp", "uid=1000"], await agent);
    }

    [Theory]
    [InlineData("silent", "did not start the command within")]
    [InlineData("handshake-only", "did not start the command within")]
    [InlineData("no-pid", "did not start the command within")]
    public async Task An_agent_that_never_answers_is_an_error_within_the_start_timeout(string behaviour, string message)
    {
        _ = RunAgent(async () =>
        {
            await using FakeAgent fake = await AcceptAsync(handshake: behaviour != "silent");
            if (behaviour == "no-pid")
            {
                await fake.ReadRequestAsync();
            }

            await Task.Delay(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        });
        ExecException error = await Assert.ThrowsAsync<ExecException>(() => RunAsync(new ExecRequest(["x"]), TimeSpan.FromSeconds(1)));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bad-magic", "Handshake magic number mismatch")]
    [InlineData("oversize", "broke the multiplexing protocol")]
    [InlineData("completed-unknown-channel", "broke the multiplexing protocol")]
    [InlineData("cut-frame", "closed the connection before the command's exit status")]
    [InlineData("no-exit", "closed the connection before the command's exit status")]
    [InlineData("error-record", "the guest agent: bad request")]
    [InlineData("bad-exit", "sent 'exit=seven' where the exit status belongs")]
    [InlineData("endless-record", "a control record longer than 65536 bytes")]
    [InlineData("output-never-ends", "did not end stdout and stderr")]
    public async Task Malformed_frames_are_one_clear_error(string behaviour, string message)
    {
        _ = RunAgent(async () =>
        {
            if (behaviour == "bad-magic")
            {
                using Socket raw = await AcceptConnectAsync();
                await raw.SendAsync(new byte[20]);
                await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
                return;
            }

            await using FakeAgent fake = await AcceptAsync();
            await fake.ReadRequestAsync();
            if (behaviour == "error-record")
            {
                await fake.SendRecordAsync("error=bad request");
                await fake.LingerAsync();
                return;
            }

            await fake.SendRecordAsync("pid=5");
            byte[] header = new byte[7];
            switch (behaviour)
            {
                case "oversize":
                    header[0] = (byte)Code.Content;
                    BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), fake.Stdout);
                    BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(5), 60000);
                    await fake.Socket.SendAsync(header);
                    await fake.Socket.SendAsync(new byte[60000]);
                    break;
                case "completed-unknown-channel":
                    await fake.SendAsync(Code.ContentWritingCompleted, 1001, []);
                    break;
                case "cut-frame":
                    header[0] = (byte)Code.Content;
                    BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), fake.Stdout);
                    BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(5), 100);
                    await fake.Socket.SendAsync(header);
                    await fake.Socket.SendAsync(new byte[10]);
                    break;
                case "bad-exit":
                    await fake.SendRecordAsync("exit=seven");
                    break;
                case "endless-record":
                    byte[] junk = new byte[16 * 1024];
                    Array.Fill(junk, (byte)'x');
                    for (int i = 0; i < 8; i++)
                    {
                        await fake.SendAsync(Code.Content, fake.Control, junk);
                    }

                    break;
                case "output-never-ends":
                    await fake.SendRecordAsync("exit=0");
                    break;
            }

            await fake.LingerAsync();
        });
        ExecException error = await Assert.ThrowsAsync<ExecException>(() => RunAsync(new ExecRequest(["x"])));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Floods_of_output_offers_and_stray_frames_pass_and_the_exit_code_still_comes()
    {
        _ = RunAgent(async () =>
        {
            await using FakeAgent fake = await AcceptAsync();
            await fake.ReadRequestAsync();
            await fake.SendRecordAsync("pid=5");
            byte[] chunk = new byte[20 * 1024];
            Array.Fill(chunk, (byte)'x');
            for (int i = 0; i < 200; i++)
            {
                await fake.SendAsync(Code.Content, fake.Stdout, chunk);
                await fake.SendAsync(Code.Offer, (uint)(2 * i + 1000), "junk"u8.ToArray());
                await fake.SendAsync(Code.Content, 999_999, chunk[..100]);
                await fake.SendAsync((Code)42, fake.Stdout, []);
            }

            await fake.SendAsync(Code.ContentWritingCompleted, fake.Stdout, []);
            await fake.SendAsync(Code.ContentWritingCompleted, fake.Stderr, []);
            await fake.SendRecordAsync("exit=3");
            await fake.LingerAsync();
        });
        (int code, string output, _) = await RunAsync(new ExecRequest(["x"]));
        Assert.Equal((3, 200 * 20 * 1024), (code, output.Length));
    }

    [Fact]
    public async Task A_refused_port_is_named()
    {
        _ = RunAgent(async () =>
        {
            using Socket socket = _listener.Accept();
            byte[] line = new byte[64];
            await socket.ReceiveAsync(line);
        });
        ExecException error = await Assert.ThrowsAsync<ExecException>(() => ExecConnection.ConnectAsync(_uds, 1024, s_timeout, TestContext.Current.CancellationToken));
        Assert.Contains("the guest refused vsock port 1024", error.Message, StringComparison.Ordinal);
    }

    private static Task<T> RunAgent<T>(Func<Task<T>> agent) => Task.Run(agent, TestContext.Current.CancellationToken);

    private static Task RunAgent(Func<Task> agent) => Task.Run(agent, TestContext.Current.CancellationToken);

    private async Task<(int Code, string Out, string Error)> RunAsync(ExecRequest request, TimeSpan? startTimeout = null)
    {
        await using var session = new ExecSession(await ExecConnection.ConnectAsync(_uds, 1024, s_timeout, TestContext.Current.CancellationToken), startTimeout);
        using var output = new MemoryStream();
        using var error = new MemoryStream();
        int code = await session.RunAsync(request, null, output, error, TestContext.Current.CancellationToken).WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        return (code, Encoding.UTF8.GetString(output.ToArray()), Encoding.UTF8.GetString(error.ToArray()));
    }

    /// <summary>Accepts the client as the vsock device does: reads its CONNECT line and answers OK.</summary>
    private async Task<Socket> AcceptConnectAsync()
    {
        Socket socket = await _listener.AcceptAsync();
        byte[] one = new byte[1];
        var line = new StringBuilder();
        while (await socket.ReceiveAsync(one) == 1 && one[0] != '\n')
        {
            line.Append((char)one[0]);
        }

        Assert.Equal("CONNECT 1024", line.ToString());
        await socket.SendAsync("OK 1073741824\n"u8.ToArray());
        return socket;
    }

    private async Task<FakeAgent> AcceptAsync(bool handshake = true)
    {
        var fake = new FakeAgent(await AcceptConnectAsync());
        if (handshake)
        {
            await fake.HandshakeAsync();
        }

        return fake;
    }

    /// <summary>MultiplexingStream v1 control codes (the library's ControlCode).</summary>
    private enum Code : byte
    {
        Offer = 0,
        OfferAccepted = 1,
        Content = 2,
        ContentWritingCompleted = 3,
    }

    /// <summary>A hand-written v1 peer: magic and all-zero random bytes (so vmm is the odd side), then raw frames.</summary>
    private sealed class FakeAgent(Socket socket) : IAsyncDisposable
    {
        private readonly Dictionary<string, uint> _channels = [];

        public Socket Socket { get; } = socket;

        public uint Control => _channels["control"];

        public uint Stdout => _channels["stdout"];

        public uint Stderr => _channels["stderr"];

        public async Task HandshakeAsync()
        {
            await Socket.SendAsync((byte[])[0x2f, 0xdf, 0x1d, 0x50, .. new byte[16]]);
            await ReceiveExactlyAsync(new byte[20]);
        }

        /// <summary>Accepts the four offers and returns the request's records up to run.</summary>
        public async Task<List<string>> ReadRequestAsync()
        {
            var control = new List<byte>();
            while (true)
            {
                byte[] header = new byte[7];
                await ReceiveExactlyAsync(header);
                uint channel = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
                byte[] payload = new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(5))];
                await ReceiveExactlyAsync(payload);
                if (header[0] == (byte)Code.Offer)
                {
                    _channels[Encoding.UTF8.GetString(payload)] = channel;
                    await SendAsync(Code.OfferAccepted, channel, []);
                }
                else if (header[0] == (byte)Code.Content && _channels.TryGetValue("control", out uint id) && channel == id)
                {
                    control.AddRange(payload);
                    List<string> records = [.. Encoding.UTF8.GetString([.. control]).Split('\0')];
                    if (records.IndexOf("run") is int run and >= 0)
                    {
                        return records[..run];
                    }
                }
            }
        }

        public Task SendRecordAsync(string record) => SendAsync(Code.Content, Control, Encoding.UTF8.GetBytes(record + "\0"));

        public async Task SendAsync(Code code, uint channel, byte[] payload)
        {
            byte[] frame = new byte[7 + payload.Length];
            frame[0] = (byte)code;
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), channel);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(5), (ushort)payload.Length);
            payload.CopyTo(frame, 7);
            await Socket.SendAsync(frame);
        }

        /// <summary>Reads what vmm still sends until it closes, so closing here is no reset.</summary>
        public async Task LingerAsync()
        {
            byte[] drain = new byte[4096];
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                while (await Socket.ReceiveAsync(drain, patience.Token) > 0)
                {
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
            }
        }

        public ValueTask DisposeAsync()
        {
            Socket.Dispose();
            return ValueTask.CompletedTask;
        }

        private async Task ReceiveExactlyAsync(byte[] buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                int n = await Socket.ReceiveAsync(buffer.AsMemory(done));
                if (n == 0)
                {
                    throw new EndOfStreamException();
                }

                done += n;
            }
        }
    }
}
