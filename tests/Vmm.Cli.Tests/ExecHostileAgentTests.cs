using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Vmm.Cli.Exec;
using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>
/// <c>vmm exec</c>'s client against a fake hybrid-vsock socket and a hostile or broken agent: every misbehaviour is
/// one clear <see cref="ExecException"/> (exit 255), within a timeout, never a hang or a crash.
/// </summary>
public sealed class ExecHostileAgentTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
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
    public async Task The_start_frame_carries_argv_env_cwd_and_the_exit_code_passes_through()
    {
        Task<List<string>> agent = RunAgent(async () =>
        {
            using Socket socket = await AcceptAsync();
            (byte type, byte[] payload) = await ReadFrameAsync(socket);
            Assert.Equal(1, type);
            await SendAsync(socket, 16, 0, BitConverter.GetBytes(77));
            await SendAsync(socket, 17, 1, "out"u8.ToArray());
            await SendAsync(socket, 17, 2, "err"u8.ToArray());
            await SendAsync(socket, 18, 0, [.. BitConverter.GetBytes(0), .. BitConverter.GetBytes(42)]);
            return Encoding.UTF8.GetString(payload).Split('\0', StringSplitOptions.RemoveEmptyEntries).ToList();
        });
        var request = new ExecRequest(["sh", "-c", "exit 42"]) { Environment = ["A=b"], WorkingDirectory = "/tmp", UserId = 1000 };
        (int code, string output, string error) = await RunAsync(request);
        Assert.Equal((42, "out", "err"), (code, output, error));
        Assert.Equal(["arg=sh", "arg=-c", "arg=exit 42", "env=A=b", "cwd=/tmp", "uid=1000"], await agent);
    }

    [Fact]
    public async Task A_signal_death_is_128_plus_the_signal()
    {
        _ = RunAgent(async () =>
        {
            using Socket socket = await AcceptAsync();
            await ReadFrameAsync(socket);
            await SendAsync(socket, 16, 0, BitConverter.GetBytes(5));
            await SendAsync(socket, 18, 0, [.. BitConverter.GetBytes(1), .. BitConverter.GetBytes(9)]);
            await ReadFrameAsync(socket); // stdin EOF
        });
        Assert.Equal(137, (await RunAsync(new ExecRequest(["x"]))).Code);
    }

    [Fact]
    public async Task An_agent_that_never_answers_is_an_error_within_the_start_timeout()
    {
        _ = RunAgent(async () =>
        {
            using Socket socket = await AcceptAsync();
            await Task.Delay(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        });
        ExecException error = await Assert.ThrowsAsync<ExecException>(() => RunAsync(new ExecRequest(["x"]), TimeSpan.FromMilliseconds(500)));
        Assert.Contains("did not start the command within", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("oversize", "a frame of 100000 bytes")]
    [InlineData("unknown-type", "unexpected frame type 99")]
    [InlineData("cut-frame", "ended inside a frame")]
    [InlineData("no-exit", "closed the connection before the command's exit status")]
    [InlineData("error-frame", "the guest agent: bad START")]
    [InlineData("bad-exit", "unknown kind 7")]
    public async Task Malformed_frames_are_one_clear_error(string behaviour, string message)
    {
        _ = RunAgent(async () =>
        {
            using Socket socket = await AcceptAsync();
            await ReadFrameAsync(socket);
            if (behaviour == "error-frame")
            {
                await SendAsync(socket, 19, 0, "bad START"u8.ToArray());
                return;
            }

            await SendAsync(socket, 16, 0, BitConverter.GetBytes(5));
            switch (behaviour)
            {
                case "oversize":
                    byte[] header = new byte[8];
                    BinaryPrimitives.WriteUInt32LittleEndian(header, 100000);
                    header[4] = 17;
                    await socket.SendAsync(header);
                    break;
                case "unknown-type":
                    await SendAsync(socket, 99, 0, []);
                    break;
                case "cut-frame":
                    byte[] cut = new byte[8];
                    BinaryPrimitives.WriteUInt32LittleEndian(cut, 100);
                    cut[4] = 17;
                    await socket.SendAsync(cut);
                    await socket.SendAsync(new byte[10]);
                    break;
                case "bad-exit":
                    await SendAsync(socket, 18, 0, [.. BitConverter.GetBytes(7), .. BitConverter.GetBytes(0)]);
                    break;
            }

            // Take the client's stdin EOF first: closing with unread bytes would be a reset, not the end tested here.
            await ReadFrameAsync(socket);
            await Task.Delay(200);
        });
        ExecException error = await Assert.ThrowsAsync<ExecException>(() => RunAsync(new ExecRequest(["x"])));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flood_of_output_is_passed_through_whole()
    {
        _ = RunAgent(async () =>
        {
            using Socket socket = await AcceptAsync();
            await ReadFrameAsync(socket);
            await SendAsync(socket, 16, 0, BitConverter.GetBytes(5));
            byte[] chunk = new byte[65536];
            Array.Fill(chunk, (byte)'x');
            for (int i = 0; i < 64; i++)
            {
                await SendAsync(socket, 17, 1, chunk);
            }

            await SendAsync(socket, 18, 0, new byte[8]);
        });
        (int code, string output, _) = await RunAsync(new ExecRequest(["x"]));
        Assert.Equal((0, 64 * 65536), (code, output.Length));
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
        await using ExecConnection connection = await ExecConnection.ConnectAsync(_uds, 1024, s_timeout, TestContext.Current.CancellationToken);
        using var output = new MemoryStream();
        using var error = new MemoryStream();
        int code = await new ExecSession(connection, startTimeout).RunAsync(request, null, output, error, TestContext.Current.CancellationToken).WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        return (code, Encoding.UTF8.GetString(output.ToArray()), Encoding.UTF8.GetString(error.ToArray()));
    }

    /// <summary>Accepts the client as the vsock device does: reads its CONNECT line and answers OK.</summary>
    private async Task<Socket> AcceptAsync()
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

    private static async Task<(byte Type, byte[] Payload)> ReadFrameAsync(Socket socket)
    {
        byte[] header = new byte[8];
        await ReceiveExactlyAsync(socket, header);
        byte[] payload = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header)];
        await ReceiveExactlyAsync(socket, payload);
        return (header[4], payload);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(done));
            if (n == 0)
            {
                return;
            }

            done += n;
        }
    }

    private static async Task SendAsync(Socket socket, byte type, byte stream, byte[] payload)
    {
        byte[] header = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
        header[4] = type;
        header[5] = stream;
        await socket.SendAsync(header);
        if (payload.Length > 0)
        {
            await socket.SendAsync(payload);
        }
    }
}
