using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Vmm.Cli;

namespace Vmm.Integration.Tests.Cli;

/// <summary>
/// <c>vmm exec</c> end to end, one boot for the class: Debian's kernel under QEMU 10 (TCG) drives our virtio-vsock
/// device over vhost-user-vsock-pci, /init starts vmm-exec-agent on vsock port 1024, and every test runs
/// <c>dotnet vmm.dll exec --socket CONTROL</c> as a child process, the way a user's shell does.
/// </summary>
public sealed class VmmExecLinuxGuestTests(VmmExecLinuxGuestTests.Vm vm) : IClassFixture<VmmExecLinuxGuestTests.Vm>
{
    // 8 MiB keeps the class lean under TCG; 100 MB was measured by hand (see the branch report).
    private const int StdinBytes = 8 << 20;

    [Fact]
    public async Task Uname_runs_in_the_guest_and_exit_codes_pass_through()
    {
        ExecResult uname = await vm.ExecAsync(["--", "uname", "-a"]);
        Assert.Equal(0, uname.ExitCode);
        Assert.StartsWith("Linux ", uname.Out, StringComparison.Ordinal);

        Assert.Equal(1, (await vm.ExecAsync(["--", "sh", "-c", "exit 1"])).ExitCode);
        Assert.Equal(42, (await vm.ExecAsync(["--", "sh", "-c", "exit 42"])).ExitCode);

        // Killed by SIGKILL: 128 + 9, as a shell reports it.
        Assert.Equal(137, (await vm.ExecAsync(["--", "sh", "-c", "kill -9 $$"])).ExitCode);

        // stdout and stderr stay apart; env, cwd and a missing program.
        ExecResult split = await vm.ExecAsync(["--env", "GREETING=hi there", "--cwd", "/tmp", "--", "sh", "-c", "echo \"$GREETING\"; pwd; echo oops >&2"]);
        Assert.Equal(("hi there\n/tmp\n", "oops\n"), (split.Out, split.Error));
        ExecResult missing = await vm.ExecAsync(["--", "/no/such/program"]);
        Assert.Equal(127, missing.ExitCode);
        Assert.Contains("cannot run '/no/such/program'", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stdin_reaches_the_command_and_its_stdout_comes_back_intact()
    {
        byte[] data = new byte[StdinBytes];
        new Random(15).NextBytes(data);
        var watch = Stopwatch.StartNew();
        ExecResult cat = await vm.ExecAsync(["-i", "--", "cat"], data);
        watch.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine($"{StdinBytes >> 20} MiB through stdin and back in {watch.Elapsed.TotalSeconds:0.0} s: {StdinBytes / watch.Elapsed.TotalSeconds / (1 << 20):0.0} MiB/s each way (TCG)");
        Assert.Equal(0, cat.ExitCode);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(data)), Convert.ToHexString(SHA256.HashData(cat.OutBytes)));
    }

    [Fact]
    public async Task Tty_gives_the_command_a_pty()
    {
        ExecResult tty = await vm.ExecAsync(["-t", "--", "tty"]);
        Assert.Equal(0, tty.ExitCode);
        Assert.Matches(@"^/dev/pts/\d+\r?\n$", tty.Out);
    }

    /// <summary>
    /// <c>vmm exec -t -i</c> on a real pseudo-terminal (python3's pty module drives it): the terminal is raw while the
    /// command runs and restored after (<c>stty -g</c> before and after), the guest pty starts at the terminal's size
    /// and follows a TIOCSWINSZ (the kernel's SIGWINCH to vmm), and a ^C byte typed there ends the guest command by
    /// SIGINT (exit 130).
    /// </summary>
    [Fact]
    public async Task On_a_real_terminal_raw_mode_window_size_and_ctrl_c_reach_the_guest()
    {
        string? python = new[] { "/usr/bin/python3", "/usr/local/bin/python3" }.FirstOrDefault(File.Exists);
        if (python is null)
        {
            Assert.Skip("python3 is not installed, so no pseudo-terminal can drive vmm exec -t.");
        }

        string work = Directory.CreateTempSubdirectory("vmm-exec-pty-").FullName;
        try
        {
            string driver = Path.Combine(work, "drive.py");
            await File.WriteAllTextAsync(driver, PtyDriver, TestContext.Current.CancellationToken);
            string vmm = $"dotnet '{Path.Combine(AppContext.BaseDirectory, "vmm.dll")}' exec --socket '{vm.ControlSocket}' -t -i";
            // The trap is set before READY: the driver resizes as soon as it reads READY, and a SIGWINCH that came
            // before the trap was ignored (seen once in CI at load 25: the driver waited out its deadline).
            string guest = "trap \"stty size\" WINCH; stty size; echo READY; while :; do sleep 1; done";
            string host = $"stty -g > before; {vmm} -- sh -c '{guest}'; echo \"EXIT=$?\"; stty -g > after";
            var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = work };
            foreach (string argument in (string[])[driver, "sh", "-c", host])
            {
                start.ArgumentList.Add(argument);
            }

            using Process process = Process.Start(start)!;
            Task<string> error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            string transcript = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
            string context = $"transcript:\n{transcript}\nstderr:\n{await error}";
            Assert.True(process.ExitCode == 0, context);
            Assert.Contains("30 100", transcript, StringComparison.Ordinal);
            Assert.Contains("raw-while-running=1", transcript, StringComparison.Ordinal);
            Assert.Contains("40 132", transcript, StringComparison.Ordinal);
            Assert.Contains("EXIT=130", transcript, StringComparison.Ordinal);
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(work, "before"), TestContext.Current.CancellationToken), await File.ReadAllTextAsync(Path.Combine(work, "after"), TestContext.Current.CancellationToken));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// SIGINT sent to vmm itself (no terminal) is forwarded: the guest command ends by it. The command is <c>cat</c>,
    /// started by the agent with no shell between: once it echoed the line vmm gave it, it is the process the signal
    /// must reach.
    /// </summary>
    [Fact]
    public async Task Sigint_to_vmm_reaches_the_guest_command()
    {
        ExecResult interrupted = await vm.VmmAsync(["exec", "--socket", vm.ControlSocket, "-i", "--", "cat"], "up\n"u8.ToArray(), onOutput: process =>
        {
            using Process kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }, endInput: false);
        Assert.True((130, "up\n") == (interrupted.ExitCode, interrupted.Out), $"exit {interrupted.ExitCode}, stdout '{interrupted.Out}', stderr:\n{interrupted.Error}");
    }

    /// <summary>
    /// A guest command that handles the forwarded SIGINT and goes on keeps vmm waiting for it: the signal is the
    /// command's, so vmm's own stop-within-15-s clock does not start (it did, and vmm left a live command behind).
    /// </summary>
    [Fact]
    public async Task A_command_that_traps_the_forwarded_sigint_runs_on_past_vmms_stop_clock()
    {
        const string Command = "trap 'echo caught' INT; echo up; i=0; while [ $i -lt 17 ]; do sleep 1; i=$((i+1)); done; exit 5";
        ExecResult trapped = await vm.VmmAsync(["exec", "--socket", vm.ControlSocket, "--", "sh", "-c", Command], null, onOutput: process =>
        {
            using Process kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        });
        Assert.True((5, "up\ncaught\n") == (trapped.ExitCode, trapped.Out), $"exit {trapped.ExitCode}, stdout '{trapped.Out}', stderr:\n{trapped.Error}");
    }

    /// <summary>Ctrl-\ (SIGQUIT) is not forwarded: it ends vmm by its default action even while the command ignores SIGINT and SIGTERM.</summary>
    [Fact]
    public async Task Sigquit_ends_vmm_while_the_command_ignores_the_forwarded_signals()
    {
        var watch = Stopwatch.StartNew();
        ExecResult quit = await vm.VmmAsync(["exec", "--socket", vm.ControlSocket, "--", "sh", "-c", "trap '' INT TERM; echo up; sleep 100"], null, onOutput: process =>
        {
            using Process kill = Process.Start("kill", ["-QUIT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        });
        Assert.True(quit.ExitCode == 128 + 3 && watch.Elapsed < TimeSpan.FromSeconds(60), $"exit {quit.ExitCode} after {watch.Elapsed.TotalSeconds:0} s, stderr:\n{quit.Error}");
    }

    [Fact]
    public async Task Ten_commands_run_at_once()
    {
        ExecResult[] results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            vm.ExecAsync(["--", "sh", "-c", $"sleep 1; echo run-{i}; exit {i}"])));
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(i, results[i].ExitCode);
            Assert.Equal($"run-{i}\n", results[i].Out);
        }
    }

    [Fact]
    public async Task An_agent_killed_mid_command_is_a_clear_error_and_exit_255()
    {
        // $PPID of the command is the agent's handler for this connection.
        ExecResult lost = await vm.ExecAsync(["--", "sh", "-c", "echo started; kill -9 $PPID; sleep 5"]);
        Assert.True(lost.ExitCode == 255 && lost.Error.Contains("closed the connection before the command's exit status", StringComparison.Ordinal), $"exit {lost.ExitCode}, stderr:\n{lost.Error}");
    }

    [Fact]
    public async Task Run_with_a_command_uses_the_running_vm_of_the_configs_control_socket()
    {
        ExecResult run = await vm.VmmAsync(["run", "--config", vm.ConfigPath, "--", "sh", "-c", "echo in-running-vm; exit 7"], null);
        Assert.Equal(7, run.ExitCode);
        Assert.Equal("in-running-vm\n", run.Out);
    }

    /// <summary>
    /// Runs ARGS on a fresh pty (30x100): once the guest says READY, records whether the terminal is raw (no ICANON,
    /// ECHO or ISIG) and resizes it to 40x132; once the guest printed the new size, types ^C. Prints the transcript.
    /// </summary>
    private const string PtyDriver = """
        import fcntl, os, pty, select, struct, sys, termios, time
        pid, fd = pty.fork()
        if pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
            os.execvp(sys.argv[1], sys.argv[1:])
        out, state, deadline = b"", 0, time.time() + 100
        while time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if state == 0 and b"READY" in out:
                lflag = termios.tcgetattr(fd)[3]
                raw = not (lflag & (termios.ICANON | termios.ECHO | termios.ISIG))
                out += b"\nraw-while-running=%d\n" % raw
                fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 132, 0, 0))
                state = 1
            elif state == 1 and b"40 132" in out:
                os.write(fd, b"\x03")
                state = 2
        sys.stdout.write(out.decode("utf-8", "replace"))
        if time.time() >= deadline:
            sys.stdout.write("\ndriver: deadline passed in state %d; killing the command\n" % state)
            os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
        """;

    /// <summary>What a <c>vmm</c> child process did.</summary>
    public sealed record ExecResult(int ExitCode, byte[] OutBytes, string Error)
    {
        public string Out => Encoding.UTF8.GetString(OutBytes);
    }

    /// <summary>The VM of the class: control socket and vsock device in a private folder, booted once.</summary>
    public sealed class Vm : IAsyncLifetime
    {
        private static readonly TimeSpan s_bootLimit = TimeSpan.FromSeconds(120);
        private readonly string _work = Directory.CreateTempSubdirectory("vmm-exec-").FullName;
        private readonly CancellationTokenSource _stop = new();
        private readonly StringWriter _console = new();
        private readonly StringWriter _error = new();
        private Task<int>? _run;
        private string? _skip;

        public string ControlSocket => Path.Combine(_work, "ctl.sock");

        public string ConfigPath => Path.Combine(_work, "vm.json");

        public async ValueTask InitializeAsync()
        {
            string kernel, initrd;
            try
            {
                (_, kernel, initrd) = TestVm.QemuAndGuestImageOrSkip();
            }
            catch (Exception ex) when (ex.GetType().Name.Contains("Skip", StringComparison.Ordinal))
            {
                _skip = ex.Message;
                return;
            }

            string vmlinux = Path.Combine(Path.GetDirectoryName(kernel)!, "vmlinux");
            await File.WriteAllTextAsync(ConfigPath, $$"""
                {
                  "machine": { "memory": "256M", "kernel": "{{(File.Exists(vmlinux) ? vmlinux : kernel)}}", "initrd": "{{initrd}}", "cmdline": "console=ttyS0 loglevel=4 vmm.wait=1" },
                  "platform": "qemu",
                  "control": { "socket": "{{ControlSocket}}" },
                  "devices": [ { "id": "vsock0", "plugin": "virtio-vsock", "type": "virtio-vsock", "options": { "guestCid": 3, "uds": "vsock.sock" } } ]
                }
                """);
            _run = Program.RunAsync(["run", "--config", ConfigPath], TextWriter.Synchronized(_console), TextWriter.Synchronized(_error), _stop.Token);

            // Ready when the agent runs a command.
            var watch = Stopwatch.StartNew();
            while (true)
            {
                if (_run.IsCompleted)
                {
                    throw new InvalidOperationException($"vmm run ended ({await _run}):\n{_error}\n{_console}");
                }

                if (File.Exists(ControlSocket) && (await ExecAsync(["--", "true"])).ExitCode == 0)
                {
                    break;
                }

                if (watch.Elapsed > s_bootLimit)
                {
                    throw new TimeoutException($"The guest's exec agent did not answer within {s_bootLimit.TotalSeconds} s:\n{_error}\n{_console}");
                }

                await Task.Delay(500);
            }

            TestContext.Current.TestOutputHelper?.WriteLine($"agent answered {watch.Elapsed.TotalSeconds:0.0} s after vmm run started");
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            if (_run is not null)
            {
                await _run.WaitAsync(TimeSpan.FromSeconds(30));
            }

            Directory.Delete(_work, recursive: true);
            _stop.Dispose();
        }

        public Task<ExecResult> ExecAsync(string[] args, byte[]? stdin = null)
            => VmmAsync(["exec", "--socket", ControlSocket, .. args], stdin);

        /// <summary>Runs <c>dotnet vmm.dll ARGS</c> with <paramref name="stdin"/> (or an empty one).</summary>
        /// <param name="args">vmm's arguments.</param>
        /// <param name="stdin">What vmm reads, or null for an empty stdin.</param>
        /// <param name="onOutput">Called once with the process when its first stdout bytes arrived.</param>
        /// <param name="endInput">Ends vmm's stdin after <paramref name="stdin"/>; false keeps it open until vmm exits.</param>
        public async Task<ExecResult> VmmAsync(string[] args, byte[]? stdin, Action<Process>? onOutput = null, bool endInput = true)
        {
            if (_skip is not null)
            {
                Assert.Skip(_skip);
            }

            // As a user's shell starts it: with SIGINT and SIGQUIT at their defaults. A test run started in the
            // background of a non-interactive shell (`bash .ci/run &`) ignores both; children inherit that across exec,
            // and the runtime then never calls vmm's handlers, so the signal tests would see the command run to its end.
            bool resetInterrupt = InterruptOrQuitIgnoredHere();
            var start = new ProcessStartInfo(resetInterrupt ? "env" : "dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (resetInterrupt)
            {
                start.ArgumentList.Add("--default-signal=INT,QUIT"); // GNU env 8.31 and later; a shell cannot undo an ignore it inherited
                start.ArgumentList.Add("dotnet");
            }

            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vmm.dll"));
            foreach (string argument in args)
            {
                start.ArgumentList.Add(argument);
            }

            using Process process = Process.Start(start)!;
            using var output = new MemoryStream();
            Task copyOut = CopyOutputAsync(process, output, onOutput);
            Task<string> error = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin);
                await process.StandardInput.BaseStream.FlushAsync();
            }

            if (endInput)
            {
                process.StandardInput.Close();
            }

            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await process.WaitForExitAsync(limit.Token);
            process.StandardInput.Close();
            await copyOut;
            return new ExecResult(process.ExitCode, output.ToArray(), await error);
        }

        /// <summary>Whether this process ignores SIGINT or SIGQUIT (the SigIgn mask of /proc/self/status: bit N-1 is signal N).</summary>
        private static bool InterruptOrQuitIgnoredHere()
        {
            const ulong InterruptAndQuit = (1UL << (2 - 1)) | (1UL << (3 - 1));
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            return line is not null && (ulong.Parse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) & InterruptAndQuit) != 0;
        }

        private static async Task CopyOutputAsync(Process process, MemoryStream output, Action<Process>? onOutput)
        {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = await process.StandardOutput.BaseStream.ReadAsync(buffer)) > 0)
            {
                output.Write(buffer, 0, n);
                onOutput?.Invoke(process);
                onOutput = null;
            }
        }
    }
}
