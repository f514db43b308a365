using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Vmm.Cli.Exec;
using Vmm.Testing.Native;
using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>
/// The guest agent's C code (tools/guest-agents/vmm-exec-agent, built for the host with gcc and serving a Unix socket
/// with <c>--unix</c>) against <c>vmm exec</c>'s session on the real Nerdbank.Streams MultiplexingStream: the two
/// sides agree on protocol v1's handshake, offers, content and completion, and every exec feature works end to end
/// without a guest. Skipped when gcc is missing.
/// </summary>
public sealed class ExecAgentProtocolTests : IClassFixture<ExecAgentProtocolTests.NativeAgent>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly NativeAgent _agent;

    public ExecAgentProtocolTests(NativeAgent agent) => _agent = agent;

    [Fact]
    public async Task Arguments_environment_directory_streams_and_exit_code_pass_through()
    {
        var request = new ExecRequest(["sh", "-c", "echo out; echo err >&2; echo \"$GREETING\"; pwd; exit 42"])
        {
            Environment = ["GREETING=hello there"],
            WorkingDirectory = "/tmp",
        };
        (int code, string output, string error) = await RunAsync(request);
        Assert.Equal((42, "out\nhello there\n/tmp\n", "err\n"), (code, output, error));
    }

    [Fact]
    public async Task Stdin_reaches_stdout_byte_for_byte()
    {
        byte[] data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        await using ExecSession session = await _agent.ConnectAsync();
        using var output = new MemoryStream();
        int code = await session.RunAsync(new ExecRequest(["cat"]), new MemoryStream(data), output, Stream.Null, TestContext.Current.CancellationToken).WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        Assert.Equal(0, code);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(output.ToArray()));
    }

    [Fact]
    public async Task A_command_killed_by_a_signal_is_128_plus_it_and_a_missing_one_is_127()
    {
        Assert.Equal(137, (await RunAsync(new ExecRequest(["sh", "-c", "kill -9 $$"]))).Code);
        (int code, _, string error) = await RunAsync(new ExecRequest(["/no/such/command"]));
        Assert.Equal(127, code);
        Assert.Contains("cannot run '/no/such/command'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forwarded_signal_reaches_the_command()
    {
        await using ExecSession session = await _agent.ConnectAsync();
        Task<int> run = session.RunAsync(new ExecRequest(["sleep", "100"]), null, Stream.Null, Stream.Null, TestContext.Current.CancellationToken);
        await WaitForStartAsync(session, run);
        await session.SignalAsync(2, TestContext.Current.CancellationToken);
        Assert.Equal(130, await run.WaitAsync(s_timeout, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_pty_has_the_window_size_follows_resizes_and_turns_ctrl_c_into_sigint()
    {
        await using ExecSession session = await _agent.ConnectAsync();
        var stdin = new Pipe();
        using var output = new MemoryStream();
        var request = new ExecRequest(["sh", "-c", "tty; stty size; read line; stty size; exec sleep 100"]) { Terminal = (24, 80) };
        Task<int> run = session.RunAsync(request, stdin.Reader.AsStream(), output, Stream.Null, TestContext.Current.CancellationToken);
        await WaitForAsync(() => Encoding.UTF8.GetString(output.ToArray()).Contains("24 80", StringComparison.Ordinal), run);
        await session.ResizeAsync(40, 132, TestContext.Current.CancellationToken);
        await stdin.Writer.WriteAsync("go\n"u8.ToArray(), TestContext.Current.CancellationToken);
        await WaitForAsync(() => Encoding.UTF8.GetString(output.ToArray()).Contains("40 132", StringComparison.Ordinal), run);
        await stdin.Writer.WriteAsync("\x03"u8.ToArray(), TestContext.Current.CancellationToken);
        Assert.Equal(130, await run.WaitAsync(s_timeout, TestContext.Current.CancellationToken));
        Assert.Contains("/dev/pts/", Encoding.UTF8.GetString(output.ToArray()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ten_commands_run_at_once_each_on_its_own_connection()
    {
        int[] codes = await Task.WhenAll(Enumerable.Range(1, 10).Select(async i =>
        {
            (int code, string output, _) = await RunAsync(new ExecRequest(["sh", "-c", $"sleep 0.3; echo {i}; exit {i}"]));
            Assert.Equal($"{i}\n", output);
            return code;
        }));
        Assert.Equal(Enumerable.Range(1, 10), codes);
    }

    [Fact]
    public async Task A_request_without_a_command_is_the_agents_error()
    {
        ExecException error = await Assert.ThrowsAsync<ExecException>(() => RunAsync(new ExecRequest([])));
        Assert.Contains("the guest agent: protocol: no command", error.Message, StringComparison.Ordinal);
    }

    private static async Task WaitForStartAsync(ExecSession session, Task<int> run) => await WaitForAsync(() => session.GuestPid is not null, run);

    private static async Task WaitForAsync(Func<bool> condition, Task<int> run)
    {
        long deadline = Environment.TickCount64 + (long)s_timeout.TotalMilliseconds;
        while (!condition())
        {
            Assert.False(run.IsCompleted, "the command ended early");
            Assert.True(Environment.TickCount64 < deadline, "timed out");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private async Task<(int Code, string Out, string Error)> RunAsync(ExecRequest request)
    {
        await using ExecSession session = await _agent.ConnectAsync();
        using var output = new MemoryStream();
        using var error = new MemoryStream();
        int code = await session.RunAsync(request, null, output, error, TestContext.Current.CancellationToken).WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        return (code, Encoding.UTF8.GetString(output.ToArray()), Encoding.UTF8.GetString(error.ToArray()));
    }

    /// <summary>The agent built from its sources (copied next to vmm) and serving a Unix socket, once per class.</summary>
    public sealed class NativeAgent : IAsyncLifetime
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("vmm-exec-agent-").FullName;
        private Process? _process;

        private string Socket => Path.Combine(_directory, "agent.sock");

        /// <summary>A session on a fresh connection to the agent; skips the test when the agent could not be built.</summary>
        internal async Task<ExecSession> ConnectAsync()
        {
            if (_process is null)
            {
                Assert.Skip("gcc is not installed, so the exec agent cannot be built for the host (apt-get install gcc).");
            }

            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(Socket), TestContext.Current.CancellationToken);
            return new ExecSession(new NetworkStream(socket, ownsSocket: true));
        }

        public async ValueTask InitializeAsync()
        {
            string? gcc = CHeaderCheck.FindCompiler();
            if (gcc is null)
            {
                return;
            }

            string sources = Path.Combine(AppContext.BaseDirectory, "tools", "guest-agents", "vmm-exec-agent");
            string binary = Path.Combine(_directory, "vmm-exec-agent");
            var compile = new ProcessStartInfo(gcc) { RedirectStandardError = true };
            foreach (string argument in (string[])["-O1", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-o", binary])
            {
                compile.ArgumentList.Add(argument);
            }

            foreach (string source in Directory.GetFiles(sources, "*.c"))
            {
                compile.ArgumentList.Add(source);
            }

            using (Process gccProcess = Process.Start(compile)!)
            {
                string errors = await gccProcess.StandardError.ReadToEndAsync();
                await gccProcess.WaitForExitAsync();
                Assert.True(gccProcess.ExitCode == 0, "gcc failed on the exec agent: " + errors);
            }

            // Started as the guest's /init starts it, in the background of a non-interactive shell: with SIGINT and
            // SIGQUIT ignored, which the agent must not pass on to the commands it runs.
            var start = new ProcessStartInfo("sh") { RedirectStandardError = true };
            foreach (string argument in (string[])["-c", "trap '' INT QUIT; exec \"$0\" --unix \"$1\"", binary, Socket])
            {
                start.ArgumentList.Add(argument);
            }

            _process = Process.Start(start)!;
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginErrorReadLine();
            long deadline = Environment.TickCount64 + 10_000;
            while (!File.Exists(Socket))
            {
                Assert.False(_process.HasExited, "the exec agent exited at start");
                Assert.True(Environment.TickCount64 < deadline, "the exec agent did not listen within 10 s");
                await Task.Delay(20);
            }
        }

        public ValueTask DisposeAsync()
        {
            if (_process is not null)
            {
                _process.Kill();
                _process.WaitForExit();
                _process.Dispose();
            }

            Directory.Delete(_directory, recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}
